"""Kubernetes backend (Flink Kubernetes Operator custom resources).

``options`` (validated ``target_options``), ``manifests`` (rendering), ``state`` (:class:`ResourceState`:
the one reading of ``.status`` as running / succeeded / failed / cancelled), ``target`` (submit, find,
cancel, cleanup through the Kubernetes API), ``schema``, ``render_cli`` and ``render_script``. The Kubernetes
clients are imported only where a task talks to the API server (``target`` and the trigger).
"""
