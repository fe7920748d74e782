-- expect: 2
NOTIFY demos, '{"event":"gone","data":{}}';
