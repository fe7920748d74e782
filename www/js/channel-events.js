// Generated from sql/registry.json by `bin/pgsse-registry js`. Do not edit:
// `make regen` rewrites it and `make check` fails when it drifts.
window.CHANNEL_EVENTS = Object.freeze({
    logs: ['log'],
    operations: ['operation_status'],
    demos: ['installed', 'uninstalled', 'operation_started', 'operation_completed'],
    status: ['system_status'],
    validation: ['check_result', 'validation_complete', 'validation_error'],
    job: ['progress', 'complete']
});
