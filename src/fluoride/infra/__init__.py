"""Infrastructure: the CloudFormation stack, the one template, its network and callers.

Layer rule: modules here may import the base (`aws`, `errors`, `events`, `waiting`,
`names`) and `fluoride.spec`; never `releases`, `stores`, `service` or `cli`.
"""
