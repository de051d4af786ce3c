"""The retiree registry: import from the agency's CSV/XLSX exports."""
