"""Phone (H5) pages of the three channels, the query page, Q&A and offline channels."""
