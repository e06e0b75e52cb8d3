-- 002_job_load.up.sql: a job table that loads faster and costs less to keep.
--
-- The runner applies this file inside one transaction and records the version
-- itself (see 001_init.up.sql). Measured with `jobscope -init-db` of 100,000
-- jobs (bench/README.md, initdb.sh), each change on its own:
--
--   * statistics and preview become json instead of jsonb. They are written
--     whole (archiving, import, the preview task) and read whole (::text for
--     the job view and job lists, or as a value inside jsonb_build_object for
--     the REST API); no query looks inside them with an indexable operator.
--     json input only checks the syntax, while jsonb input also converts every
--     number to numeric and sorts the keys: parsing statistics was the largest
--     single cost of loading a job. The text is also smaller than jsonb's
--     binary form (about 1.0 kB against 1.5 kB per job), so rows are smaller.
--     The server CPU of the load's COPY fell by about half.
--   * job_hosts_gin indexes jsonb_path_query_array(resources, '$[*].hostname')
--     with jsonb_path_ops instead of the LANGUAGE sql function job_hostnames().
--     That function has a sub-select, so PostgreSQL cannot inline it and runs
--     it through the SQL-function executor for every row: in the index build,
--     in ANALYZE (which samples index expressions) and in every start_job.
--     Built-in functions only: the index build took a quarter of the time.
--     Queries must spell the expression exactly so:
--       jsonb_path_query_array(job.resources, '$[*].hostname') @> jsonb_build_array($1::text)
--     The CHECK job_resources_check still guarantees that every element of
--     resources has a string hostname, so the array holds them all.
--   * No planner statistics for the JSON columns (SET STATISTICS 0): no query
--     compares these columns as a whole. The footprint sort and filters use
--     expressions (footprint->>'key'), whose estimates do not come from the
--     column's statistics. ANALYZE no longer samples and sorts these large
--     values. The hosts index keeps its expression statistics.
--   * job_preview_todo holds only the archived jobs whose preview series the
--     task runner has yet to compute (app/tasks.c): after -init-db, all of
--     them for a while, then none. Without it, the runner's look for work read
--     the whole table every minute even when there was none (about 2 s of
--     server CPU at a million jobs).

ALTER TABLE job
    DROP CONSTRAINT job_statistics_check,
    DROP CONSTRAINT job_preview_check;

ALTER TABLE job
    ALTER COLUMN statistics TYPE json USING statistics::json,
    ALTER COLUMN preview TYPE json USING preview::json,
    ADD CONSTRAINT job_statistics_check CHECK (json_typeof(statistics) = 'object'),
    ADD CONSTRAINT job_preview_check CHECK (json_typeof(preview) = 'object');

DROP INDEX job_hosts_gin;
DROP FUNCTION job_hostnames(jsonb);
CREATE INDEX job_hosts_gin ON job
    USING gin (jsonb_path_query_array(resources, '$[*].hostname') jsonb_path_ops);

ALTER TABLE job
    ALTER COLUMN meta_data SET STATISTICS 0,
    ALTER COLUMN resources SET STATISTICS 0,
    ALTER COLUMN energy_footprint SET STATISTICS 0,
    ALTER COLUMN footprint SET STATISTICS 0,
    ALTER COLUMN statistics SET STATISTICS 0,
    ALTER COLUMN preview SET STATISTICS 0;
-- Statistics an earlier ANALYZE gathered for meta_data, resources and the
-- footprints stay in pg_statistic until the table is dropped (deleting them
-- needs a superuser); they describe the columns as they were and no query
-- uses them.

CREATE INDEX job_preview_todo ON job (id) WHERE preview IS NULL AND monitoring_status = 3;
