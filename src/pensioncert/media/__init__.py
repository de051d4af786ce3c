"""Media: decoding uploads (``decode``) and encoding test clips (``encode``)."""
