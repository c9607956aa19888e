-- Data quality per feed and partition: rows in each layer, quarantine rate and its change
-- against the feed's previous partition, the rules' pass rates, how many rules failed (more
-- than the feed's tolerated failure rate), and when it was last checked.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE OR REPLACE TABLE marts.data_quality_rules AS
SELECT * FROM read_parquet('{lake}/*/quality/*.parquet', union_by_name = true);

CREATE OR REPLACE TABLE marts.data_quality AS
WITH files AS (
    SELECT split_part(file_name, '/', -3) AS feed,
           split_part(file_name, '/', -2) AS layer,
           replace(split_part(file_name, '/', -1), '.parquet', '') AS partition,
           num_rows
    FROM parquet_file_metadata('{lake}/*/*/*.parquet')
),
counts AS (
    SELECT feed, partition,
           sum(num_rows) FILTER (WHERE layer = 'raw') AS raw_rows,
           sum(num_rows) FILTER (WHERE layer = 'staged') AS staged_rows,
           sum(num_rows) FILTER (WHERE layer = 'quarantine') AS quarantined_rows
    FROM files
    GROUP BY ALL
),
rules AS (
    SELECT feed, partition,
           count(*) FILTER (WHERE pass_rate IS NOT NULL) AS rules_run,
           count(*) FILTER (WHERE pass_rate < 1) AS rules_with_failures,
           count(*) FILTER (WHERE NOT passed) AS rules_failed,
           min(pass_rate) AS worst_pass_rate,
           arg_min(rule, pass_rate) AS worst_rule,
           max(checked_at) AS checked_at
    FROM marts.data_quality_rules
    GROUP BY ALL
)
SELECT c.feed, c.partition, c.raw_rows, c.staged_rows, c.quarantined_rows,
       c.quarantined_rows / nullif(c.raw_rows, 0) AS quarantine_rate,
       c.quarantined_rows / nullif(c.raw_rows, 0)
         - lag(c.quarantined_rows / nullif(c.raw_rows, 0)) OVER (PARTITION BY c.feed ORDER BY c.partition)
         AS quarantine_rate_change,
       r.rules_run, r.rules_with_failures, r.rules_failed, r.worst_rule, r.worst_pass_rate, r.checked_at,
       date_diff('minute', max(r.checked_at) OVER (PARTITION BY c.feed), now()) / 60.0 AS feed_hours_since_checked
FROM counts c
LEFT JOIN rules r USING (feed, partition)
ORDER BY c.feed, c.partition;
