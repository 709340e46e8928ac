"""Owned data: the table, bucket and secret handles, and what happens to them on delete.

Layer rule: modules here may import the base only.
"""
