-- 003_list_order.down.sql: back to version 2 (002_job_load.up.sql).
-- The runner wraps this in a transaction and updates schema_migrations itself.

DROP INDEX job_cluster_start;
DROP INDEX job_state_start;
DROP INDEX job_cluster_state;
ALTER INDEX job_hosts_gin RESET (fastupdate);
