-- 001_init.down.sql: drops everything 001_init.up.sql created, dependents first.
-- The runner wraps this in a transaction and updates schema_migrations itself.
-- No CASCADE: if a later object still depends on one of these, the drop fails
-- instead of silently taking that object with it.

DROP TABLE IF EXISTS login_attempt;
DROP TABLE IF EXISTS archive_queue;
DROP TABLE IF EXISTS session;
DROP TABLE IF EXISTS node_state;
DROP TABLE IF EXISTS node;
DROP TABLE IF EXISTS configuration;
DROP TABLE IF EXISTS hpc_user;
DROP TABLE IF EXISTS jobtag;
DROP TABLE IF EXISTS tag;
DROP TABLE IF EXISTS job;
DROP FUNCTION IF EXISTS job_hostnames(jsonb);
