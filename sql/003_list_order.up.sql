-- 003_list_order.up.sql: job lists that stay fast for rare filter values.
--
-- The runner applies this file inside one transaction and records the version
-- itself (see 001_init.up.sql). Building the three indexes takes a few seconds
-- per million jobs, during which the job table takes no writes.
--
--   * job_cluster_start, job_state_start and job_cluster_state. A job list
--     pages by start time (ORDER BY start_time DESC, id DESC LIMIT n). When
--     its only filters were a cluster or a state, the plan walked
--     job_start_time from the newest job and checked each row: quick for a
--     value that many recent jobs have, but it reads the whole index for one
--     that only a few old jobs have, such as a retired cluster or a rare state
--     like out_of_memory. At a million jobs that was 0.4 to 0.7 s per page.
--     The list is a prepared statement, so after five pages PostgreSQL may
--     keep such a plan for every value: a generic plan does not know which
--     values are rare. With the filtered columns leading, an index yields
--     exactly the matching jobs in start-time order, whatever the values.
--     Both filters together ("failed jobs on this cluster") need their own
--     index: with two single-column ones, the generic plan guesses which
--     value is rare, and a rare state on a large cluster took 0.25 s per page
--     when it guessed the cluster. (001's comment on job_start_time assumed
--     that clusters are few and large; retired ones are small and old.) The
--     job list writes a single state as job_state = $n, not = ANY($n), so
--     that the indexes can give the order.
--   * job_hosts_gin without fastupdate. With it, new rows wait in a pending
--     list that every search reads whole until autovacuum or 4 MB of them
--     merge it into the index: with start_job coming in all day, about 500
--     pages, 10 ms, for every node search and every job view's concurrent
--     jobs. Now a start_job adds its hostnames to the index directly.

CREATE INDEX job_cluster_start ON job (cluster, start_time, id);
CREATE INDEX job_state_start ON job (job_state, start_time, id);
CREATE INDEX job_cluster_state ON job (cluster, job_state, start_time, id);
ALTER INDEX job_hosts_gin SET (fastupdate = off);
