-- One card per demo: at most PGSSE_FRAGMENT_ROWS_MAX (200) rows, text
-- cut to PGSSE_FRAGMENT_FIELD_MAX (4096).
select id, left(name, 4096) as name, left(description, 4096) as description,
	installed
from pgsse_demo.demos order by name limit 200
