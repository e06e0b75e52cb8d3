-- 002_job_load.down.sql: back to the job table of version 1 (001_init.up.sql).
-- The runner wraps this in a transaction and updates schema_migrations itself.

ALTER TABLE job
    ALTER COLUMN meta_data SET STATISTICS -1,
    ALTER COLUMN resources SET STATISTICS -1,
    ALTER COLUMN energy_footprint SET STATISTICS -1,
    ALTER COLUMN footprint SET STATISTICS -1,
    ALTER COLUMN statistics SET STATISTICS -1,
    ALTER COLUMN preview SET STATISTICS -1;

DROP INDEX job_hosts_gin;

DROP INDEX job_preview_todo;

CREATE FUNCTION job_hostnames(resources jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT coalesce(array_agg(DISTINCT e->>'hostname'), '{}'::text[])
              FROM jsonb_array_elements(
                       CASE WHEN jsonb_typeof(resources) = 'array'
                            THEN resources ELSE '[]'::jsonb END) AS e
             WHERE jsonb_typeof(e) = 'object' AND e ? 'hostname');

CREATE INDEX job_hosts_gin ON job USING gin (job_hostnames(resources));

ALTER TABLE job
    DROP CONSTRAINT job_statistics_check,
    DROP CONSTRAINT job_preview_check;

ALTER TABLE job
    ALTER COLUMN statistics TYPE jsonb USING statistics::jsonb,
    ALTER COLUMN preview TYPE jsonb USING preview::jsonb,
    ADD CONSTRAINT job_statistics_check CHECK (jsonb_typeof(statistics) = 'object'),
    ADD CONSTRAINT job_preview_check CHECK (jsonb_typeof(preview) = 'object');
