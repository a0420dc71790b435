"""The realism suite: vendors' own SDKs driven in the sandbox, judged against vendors' pages."""
