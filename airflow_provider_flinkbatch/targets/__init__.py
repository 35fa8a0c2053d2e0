"""Deployment targets: where a Flink batch job runs (session cluster now; Kubernetes and YARN to come)."""
