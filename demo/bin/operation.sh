# shellcheck shell=sh
# operation.sh: sourced by the demo's jobs with $demo set. Publishes
# demos.operation_started now, and demos.operation_completed with
# succeeded or failed when the job exits (a signal counts as failed),
# to the job's owner alone when a web user started it: how someone's
# job goes is theirs. (installed and uninstalled, the demo's state,
# stay everyone's.)
: "${demo:?}" "${PGSSE_JOB_ID:?not run by pgsse-runner}"
operation_completed() {
	if [ "$1" = 0 ]; then status=succeeded; else status=failed; fi
	pgsse-publish ${PGSSE_JOB_OWNER:+-u "$PGSSE_JOB_OWNER"} \
		-s demo_id="$demo" -s status="$status" \
		-n job_id="$PGSSE_JOB_ID" demos operation_completed >/dev/null
}
trap 'operation_completed $?' EXIT
trap 'exit 143' HUP INT TERM
pgsse-publish ${PGSSE_JOB_OWNER:+-u "$PGSSE_JOB_OWNER"} \
	-s demo_id="$demo" -s operation="$PGSSE_JOB_KIND" \
	-n job_id="$PGSSE_JOB_ID" demos operation_started >/dev/null
