"""Output formats: separate renderers over one Report value."""
