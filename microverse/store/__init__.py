"""The embedded SQLite store: the only package that speaks SQL.

``db`` opens a database (WAL, migrations); each area has its own module and its own
migration component (``judgments`` here; others add theirs) in the same file.
"""
