-- PostgreSQL gets an application role here; a SQLite file has one user. Kept so
-- both schemas carry the same version number.
SELECT 1;
