select id, title, link, job_id from board.orders where id = $1::bigint
