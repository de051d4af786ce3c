"""The certification workflow: identify → eligibility → challenge → verify → record."""
