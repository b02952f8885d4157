import GRDB

/// Append-only migrations, written in SQL with string names: a released migration is never
/// edited, a change is a new migration. Times are Unix milliseconds (INTEGER), money integer
/// minor units, so the same schema maps onto PostgreSQL `bigint`.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001 initial schema") { db in
            try db.execute(sql: """
                CREATE TABLE daemon_heartbeat (
                    instance     TEXT PRIMARY KEY,
                    pid          INTEGER NOT NULL,
                    hostname     TEXT NOT NULL,
                    version      TEXT NOT NULL,
                    config_path  TEXT NOT NULL,
                    started_at   INTEGER NOT NULL,
                    beat_at      INTEGER NOT NULL,
                    state        TEXT NOT NULL,
                    elements     INTEGER NOT NULL,
                    lines        INTEGER NOT NULL,
                    customers    INTEGER NOT NULL,
                    contracts    INTEGER NOT NULL
                );

                -- Every observed change of an element, port or line, with its evidence.
                CREATE TABLE state_transition (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    subject_type TEXT NOT NULL CHECK (subject_type IN ('element', 'port', 'line')),
                    subject_id   TEXT NOT NULL,
                    from_state   TEXT NOT NULL,
                    to_state     TEXT NOT NULL,
                    at           INTEGER NOT NULL,
                    evidence     TEXT NOT NULL
                );
                CREATE INDEX state_transition_subject ON state_transition (subject_type, subject_id, at);
                CREATE INDEX state_transition_at ON state_transition (at);

                CREATE TABLE incident (
                    id             INTEGER PRIMARY KEY AUTOINCREMENT,
                    state          TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
                    root_type      TEXT NOT NULL CHECK (root_type IN ('element', 'port', 'line')),
                    root_id        TEXT NOT NULL,
                    root_kind      TEXT NOT NULL,
                    severity       TEXT NOT NULL,
                    planned        INTEGER NOT NULL DEFAULT 0,
                    proactive      INTEGER NOT NULL DEFAULT 0,
                    flapping       INTEGER NOT NULL DEFAULT 0,
                    classification TEXT NOT NULL DEFAULT 'network'
                        CHECK (classification IN ('network', 'customer-caused', 'force-majeure', 'planned')),
                    started_at     INTEGER NOT NULL,
                    detected_at    INTEGER NOT NULL,
                    ticketed_at    INTEGER,
                    first_call_at  INTEGER,
                    acknowledged_at INTEGER,
                    resolved_at    INTEGER,
                    merged_into    INTEGER REFERENCES incident (id),
                    ticket_id      TEXT,
                    ticket_state   TEXT,
                    updated_at     INTEGER NOT NULL
                );
                CREATE INDEX incident_open ON incident (state, root_type, root_id);

                -- The incident's scope: each line with its own outage interval (credits need it).
                CREATE TABLE incident_line (
                    incident_id INTEGER NOT NULL REFERENCES incident (id),
                    line        TEXT NOT NULL,
                    customer    TEXT NOT NULL,
                    start_at    INTEGER NOT NULL,
                    end_at      INTEGER,
                    PRIMARY KEY (incident_id, line, start_at)
                );
                CREATE INDEX incident_line_line ON incident_line (line, start_at);

                -- Faults: the evidence-level problems an incident groups.
                CREATE TABLE fault (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    subject_type TEXT NOT NULL CHECK (subject_type IN ('element', 'port', 'line')),
                    subject_id   TEXT NOT NULL,
                    kind         TEXT NOT NULL,
                    started_at   INTEGER NOT NULL,
                    detected_at  INTEGER NOT NULL,
                    cleared_at   INTEGER,
                    incident_id  INTEGER REFERENCES incident (id)
                );
                CREATE INDEX fault_open ON fault (subject_type, subject_id, cleared_at);

                -- The incident's timeline: every change with its evidence (JSON).
                CREATE TABLE incident_event (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    incident_id INTEGER NOT NULL REFERENCES incident (id),
                    at          INTEGER NOT NULL,
                    kind        TEXT NOT NULL,
                    detail      TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX incident_event_incident ON incident_event (incident_id, id);

                CREATE TABLE customer_report (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    line        TEXT NOT NULL,
                    customer    TEXT,
                    reported_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    source      TEXT NOT NULL,
                    note        TEXT NOT NULL DEFAULT '',
                    incident_id INTEGER REFERENCES incident (id)
                );
                CREATE INDEX customer_report_line ON customer_report (line, reported_at);

                -- Written in the same transaction as the incident change it announces; the
                -- delivery worker marks rows delivered and keeps the ticket id.
                CREATE TABLE ticket_outbox (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    incident_id     INTEGER NOT NULL REFERENCES incident (id),
                    hook            TEXT NOT NULL,
                    event           TEXT NOT NULL CHECK (event IN ('open', 'update', 'resolve')),
                    payload         TEXT NOT NULL,
                    created_at      INTEGER NOT NULL,
                    attempts        INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    delivered_at    INTEGER,
                    failed_at       INTEGER,
                    last_error      TEXT,
                    ticket_id       TEXT
                );
                CREATE INDEX ticket_outbox_pending ON ticket_outbox (delivered_at, failed_at, next_attempt_at);
                -- At most one 'open' per incident and hook: never two tickets for one incident.
                CREATE UNIQUE INDEX ticket_outbox_one_open ON ticket_outbox (incident_id, hook) WHERE event = 'open';

                -- Credits per line and billing period; a closed period is never edited, later
                -- changes are adjustment rows.
                CREATE TABLE credit_ledger (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    period       TEXT NOT NULL,
                    line         TEXT NOT NULL,
                    customer     TEXT NOT NULL,
                    contract     TEXT NOT NULL,
                    kind         TEXT NOT NULL CHECK (kind IN ('credit', 'adjustment')),
                    amount_minor INTEGER NOT NULL,
                    currency     TEXT NOT NULL,
                    outage_ms    INTEGER NOT NULL,
                    reason       TEXT NOT NULL,
                    created_at   INTEGER NOT NULL,
                    exported_at  INTEGER
                );
                CREATE INDEX credit_ledger_period ON credit_ledger (period, line);

                CREATE TABLE maintenance_window (
                    id         TEXT PRIMARY KEY,
                    start_at   INTEGER NOT NULL,
                    end_at     INTEGER NOT NULL,
                    elements   TEXT NOT NULL DEFAULT '[]',
                    lines      TEXT NOT NULL DEFAULT '[]',
                    reason     TEXT NOT NULL DEFAULT '',
                    source     TEXT NOT NULL CHECK (source IN ('config', 'operator')),
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("0002 correlation state and operator commands") { db in
            try db.execute(sql: """
                -- The correlator's grouping key, so its state can be rebuilt from open incidents.
                ALTER TABLE incident ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
                ALTER TABLE fault ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
                -- A subject's fault is identified by when it started; it may move to another
                -- incident (re-root, merge), never be duplicated.
                CREATE UNIQUE INDEX fault_identity ON fault (subject_type, subject_id, started_at);
                CREATE INDEX incident_merged ON incident (merged_into);

                -- What the CLI asks of the daemon (calls, acknowledgements, notes, maintenance):
                -- the daemon takes pending rows in id order and marks each processed in the same
                -- transaction as the incident changes it caused.
                CREATE TABLE operator_command (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind         TEXT NOT NULL CHECK (kind IN ('report-call', 'acknowledge', 'note', 'classify',
                                                               'resolve', 'maintenance-add', 'maintenance-end')),
                    payload      TEXT NOT NULL,
                    created_at   INTEGER NOT NULL,
                    processed_at INTEGER,
                    result       TEXT
                );
                CREATE INDEX operator_command_pending ON operator_command (processed_at, id);
                """)
        }
        migrator.registerMigration("0003 tickets, incident id allocation, open command kinds") { db in
            try db.execute(sql: """
                -- The one owner of ticket state: a ticket per incident and hook, written back by
                -- delivery (the outbox keeps only what was sent and when).
                CREATE TABLE ticket (
                    incident_id INTEGER NOT NULL REFERENCES incident (id),
                    hook        TEXT NOT NULL,
                    ticket_id   TEXT NOT NULL,
                    state       TEXT,
                    opened_at   INTEGER NOT NULL,
                    updated_at  INTEGER NOT NULL,
                    PRIMARY KEY (incident_id, hook)
                );
                INSERT INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at)
                    SELECT incident_id, hook, ticket_id, NULL, delivered_at, delivered_at FROM ticket_outbox
                    WHERE event = 'open' AND ticket_id IS NOT NULL AND delivered_at IS NOT NULL;
                ALTER TABLE ticket_outbox DROP COLUMN ticket_id;
                ALTER TABLE incident DROP COLUMN ticket_id;
                ALTER TABLE incident DROP COLUMN ticket_state;
                ALTER TABLE incident DROP COLUMN ticketed_at;
                -- A delivery worker's claim on an entry, so two workers never send one entry.
                ALTER TABLE ticket_outbox ADD COLUMN claimed_until INTEGER;

                -- One allocator of ids for every writer of incidents (the correlator reserves
                -- blocks, the CLI single ids): never MAX(id) + 1 from two places.
                CREATE TABLE id_allocation (
                    name       TEXT PRIMARY KEY,
                    next_value INTEGER NOT NULL
                );
                INSERT INTO id_allocation (name, next_value)
                    SELECT 'incident', COALESCE(MAX(id), 0) + 1 FROM incident;

                -- Command kinds are checked by the code that reads them (an unknown kind is
                -- refused with its reason), so a new kind needs no table rebuild.
                CREATE TABLE operator_command_new (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind         TEXT NOT NULL,
                    payload      TEXT NOT NULL,
                    created_at   INTEGER NOT NULL,
                    processed_at INTEGER,
                    result       TEXT
                );
                INSERT INTO operator_command_new (id, kind, payload, created_at, processed_at, result)
                    SELECT id, kind, payload, created_at, processed_at, result FROM operator_command;
                DROP TABLE operator_command;
                ALTER TABLE operator_command_new RENAME TO operator_command;
                CREATE INDEX operator_command_pending ON operator_command (processed_at, id);
                """)
        }
        migrator.registerMigration("0004 ticket delivery state") { db in
            try db.execute(sql: """
                -- How an entry was done with (sent, coalesced, skipped, dropped), and whether its last
                -- attempt may have reached the ticketing system unanswered (then a create is
                -- looked up before it is sent again).
                ALTER TABLE ticket_outbox ADD COLUMN outcome TEXT
                    CHECK (outcome IN ('sent', 'coalesced', 'skipped', 'dropped'));
                ALTER TABLE ticket_outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE ticket_outbox ADD COLUMN attempt_started_at INTEGER;
                UPDATE ticket_outbox SET outcome = 'sent' WHERE delivered_at IS NOT NULL;
                CREATE INDEX ticket_outbox_queue ON ticket_outbox (incident_id, hook, delivered_at, id);
                """)
        }
        migrator.registerMigration("0005 credit periods and adjustments") { db in
            try db.execute(sql: """
                -- A billing period frozen by `forewarn credits close`: the feed as exported then.
                CREATE TABLE credit_period (
                    period    TEXT PRIMARY KEY,
                    closed_at INTEGER NOT NULL,
                    document  TEXT NOT NULL
                );
                -- An adjustment names the closed period it corrects; every entry its incidents.
                ALTER TABLE credit_ledger ADD COLUMN adjusts_period TEXT;
                ALTER TABLE credit_ledger ADD COLUMN incident_ids TEXT NOT NULL DEFAULT '';
                CREATE INDEX credit_ledger_adjusts ON credit_ledger (adjusts_period, line);
                CREATE INDEX incident_updated ON incident (updated_at);
                """)
        }
        migrator.registerMigration("0007 incidents entered by hand") { db in
            try db.execute(sql: """
                -- Who entered an incident by hand (`forewarn incident add`, `import`) and when;
                -- NULL for a detected one. Otherwise such an incident is an ordinary row.
                ALTER TABLE incident ADD COLUMN entered_by TEXT;
                ALTER TABLE incident ADD COLUMN entered_at INTEGER;
                CREATE INDEX incident_entered_start ON incident (started_at) WHERE entered_at IS NOT NULL;
                """)
        }
        migrator.registerMigration("0009 report reads") { db in
            try db.execute(sql: """
                -- Operations reports read every line's intervals in line order from the index alone
                -- (no table lookup per interval); it serves every lookup by line the old one did.
                CREATE INDEX incident_line_report ON incident_line (line, start_at, end_at, incident_id, customer);
                DROP INDEX incident_line_line;
                -- The incidents a report's period counts, by detection time.
                CREATE INDEX incident_detected ON incident (detected_at);
                """)
        }
        migrator.registerMigration("0010 collection health with the heartbeat") { db in
            try db.execute(sql: """
                -- What the daemon's sources see, written with every heartbeat (forewarn status,
                -- /metrics); NULL until the first measurement and for daemons that predate it.
                ALTER TABLE daemon_heartbeat ADD COLUMN config_loaded_at INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN interval_ms INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN elements_reachable INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN elements_unreachable INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN elements_not_polled INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN lines_up INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN lines_down INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN lines_degraded INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN lines_unknown INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN lines_unprobed INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN polls_per_second REAL;
                ALTER TABLE daemon_heartbeat ADD COLUMN probes_per_second REAL;
                ALTER TABLE daemon_heartbeat ADD COLUMN traps_per_second REAL;
                ALTER TABLE daemon_heartbeat ADD COLUMN last_trap_at INTEGER;
                ALTER TABLE daemon_heartbeat ADD COLUMN snmp_timeouts INTEGER;
                """)
        }
        migrator.registerMigration("0011 closed periods keep their CSV") { db in
            try db.execute(sql: """
                -- The CSV export of a closed period as written when it was closed, served as it is
                -- (NULL for periods closed before: rendered again from the document, same bytes).
                ALTER TABLE credit_period ADD COLUMN csv BLOB;
                """)
        }
        migrator.registerMigration("0012 several instances on one store") { db in
            try db.execute(sql: """
                -- Instances sharing a (PostgreSQL) store: their beats by the store's clock, the
                -- queue that brings their observations to the correlator, and requests addressed
                -- to one of them. Kept here too so that both stores have the same tables.
                CREATE TABLE cluster_member (
                    instance   TEXT PRIMARY KEY,
                    hostname   TEXT NOT NULL,
                    pid        INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    beat_at    INTEGER NOT NULL,
                    role       TEXT NOT NULL,
                    elements   INTEGER NOT NULL,
                    lines      INTEGER NOT NULL,
                    leaving    INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE observation_queue (
                    instance  TEXT NOT NULL,
                    number    INTEGER NOT NULL,
                    payload   TEXT NOT NULL,
                    queued_at INTEGER NOT NULL,
                    PRIMARY KEY (instance, number)
                );
                CREATE TABLE cluster_request (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    instance   TEXT NOT NULL,
                    payload    TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX cluster_request_instance ON cluster_request (instance, id);
                """)
        }
        return migrator
    }
}
