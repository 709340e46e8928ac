"""Releases: images (ECR and a local engine), ECS deployments, the pure verdict, history.

Layer rule: modules here may import the base and `fluoride.infra`; never `stores`,
`service` or `cli`. `verdict.py` imports nothing that does I/O.
"""
