"""microbuy's command line, and the few services that join policies to storage."""
