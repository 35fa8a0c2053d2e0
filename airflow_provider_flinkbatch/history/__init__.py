"""Where a job's history lives: the JobManager, the HistoryServer, and the raw archive files."""
