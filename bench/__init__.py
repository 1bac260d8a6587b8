"""``make bench``: ingest throughput, question latency by corpus size, cold start, a LangChain
tutorial baseline and UI concurrency, written to bench/results.json and bench/results.md."""
