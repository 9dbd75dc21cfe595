"""ICP metrics library: catalogue, store, statistics, charts, demo data and the command line."""
