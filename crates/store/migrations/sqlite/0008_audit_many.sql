-- PostgreSQL adds `audit_write_many` here; SQLite appends audit rows in the
-- desktop's own transaction and needs nothing new. (Both databases keep the same
-- migration numbers.)
SELECT 1;
