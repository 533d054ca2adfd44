"""The reader service (`newsletter serve`). Only a constant lives here: the CLI reads it without
loading the service."""

# waitress threads: requests answered at once. A signup's thread mostly waits for the group
# commit (pipeline/readers/commits.py), so more threads make bigger batches, up to the point
# where one Python process's CPU is the limit (bench/signups.py, bench/README.md).
DEFAULT_THREADS = 16
