-- Warrants: a person wanted on a warrant. Active while the warrant is outstanding; the latest
-- delivery of a warrant gives its status.
SELECT 'warrants|' || _record_key AS event_key,
       'wanted' AS role,
       'warrant' AS warning,
       status,
       coalesce(status = 'Outstanding', false) AS active,
       concat_ws('; ', warrant_type, offence, court) AS details
FROM staged.warrants
QUALIFY row_number() OVER (PARTITION BY _record_key ORDER BY _partition DESC) = 1
