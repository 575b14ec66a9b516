"""Small key-value interfaces (cache, rate limits, ...) with in-process and Redis backends."""
