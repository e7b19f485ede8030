//! The parameters Postfix 3.11's mail_params_init() evaluates at the
//! start of every Postfix program, postmulti included: each table in the
//! order the library goes through it, with each parameter's type, range
//! and upstream default (an installation's own defaults, where its build
//! differs, come from its postconf: see `defaults`).  The three whose
//! defaults are computed (myhostname, mydomain, mynetworks) are not here;
//! `config::mail_params` evaluates them in their places.

/// How a parameter's value is converted and checked.  A `min` or `max` of
/// 0 means that side is not checked, as in Postfix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string of `min..=max` bytes once expanded.
    Str { min: usize, max: usize },
    /// A decimal integer that fits a C int.
    Int { min: i64, max: i64 },
    /// A decimal integer that fits a C long.
    Long { min: i64, max: i64 },
    /// `yes` or `no`, with a built-in yes/no default.
    Bool,
    /// `yes` or `no`, whose default is an expression (it may depend on
    /// `compatibility_level`).
    NamedBool,
    /// A time, in seconds, with the unit of its default (`s` for every one
    /// here) when none is given.
    Time { min: i64, max: i64 },
}

/// One parameter of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    pub name: &'static str,
    /// Upstream Postfix 3.11's built-in default.
    pub default: &'static str,
    pub kind: Kind,
}

/// `compatibility_level`, the library's first parameter.
pub const COMPATIBILITY_LEVEL: Parameter = Parameter {
    name: "compatibility_level",
    default: "0",
    kind: Kind::Str { min: 0, max: 0 },
};

/// `first_str_defaults`.
pub const FIRST_STRINGS: [Parameter; 15] = [
    Parameter {
        name: "mail_version",
        default: "3.11.6",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "syslog_facility",
        default: "mail",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "inet_protocols",
        default: "all",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "multi_instance_directories",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "multi_instance_group",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "multi_instance_name",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "maillog_file",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "maillog_file_prefixes",
        default: "/var, /dev/stdout",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "maillog_file_compressor",
        default: "gzip",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "maillog_file_rotate_suffix",
        default: "%Y%m%d-%H%M%S",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "maillog_file_permissions",
        default: "0600",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "postlog_service_name",
        default: "postlog",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "dnssec_probe",
        default: "ns:.",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "known_tcp_ports",
        default: "lmtp=24, smtp=25, smtps=submissions=465, submission=587",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "service_name",
        default: "amnesiac",
        kind: Kind::Str { min: 0, max: 0 },
    },
];

/// `first_bool_defaults`.
pub const FIRST_BOOLEANS: [Parameter; 2] = [
    Parameter {
        name: "daemon_table_open_error_is_fatal",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "dns_ncache_ttl_fix_enable",
        default: "no",
        kind: Kind::Bool,
    },
];

/// `first_nbool_defaults`.
pub const FIRST_NAMED_BOOLEANS: [Parameter; 6] = [
    Parameter {
        name: "smtputf8_enable",
        default: "${{$compatibility_level} <level {1} ? {no} : {yes}}",
        kind: Kind::NamedBool,
    },
    Parameter {
        name: "enable_idna2003_compatibility",
        default: "no",
        kind: Kind::NamedBool,
    },
    Parameter {
        name: "respectful_logging",
        default: "${{$compatibility_level} <level {3.6} ? {no} : {yes}}",
        kind: Kind::NamedBool,
    },
    Parameter {
        name: "requiretls_enable",
        default: "yes",
        kind: Kind::NamedBool,
    },
    Parameter {
        name: "tls_required_enable",
        default: "yes",
        kind: Kind::NamedBool,
    },
    Parameter {
        name: "non_bdb_migration_log_redirect",
        default: "yes",
        kind: Kind::NamedBool,
    },
];

/// `other_str_defaults`.
pub const OTHER_STRINGS: [Parameter; 56] = [
    Parameter {
        name: "mail_name",
        default: "Postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "syslog_name",
        default: "${multi_instance_name?{$multi_instance_name}:{postfix}}",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "mail_owner",
        default: "postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "setgid_group",
        default: "postdrop",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "mydestination",
        default: "$myhostname, localhost.$mydomain, localhost",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "myorigin",
        default: "$myhostname",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "relayhost",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "daemon_directory",
        default: "/usr/libexec/postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "data_directory",
        default: "/var/lib/postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "command_directory",
        default: "/usr/sbin",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "meta_directory",
        default: "/etc/postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "queue_directory",
        default: "/var/spool/postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "shlib_directory",
        default: "/usr/lib/postfix",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "process_id_directory",
        default: "pid",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "inet_interfaces",
        default: "all",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "proxy_interfaces",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "double_bounce_sender",
        default: "double-bounce",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "default_privs",
        default: "nobody",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "mail_release_date",
        default: "20260809",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "default_database_type",
        default: "hash",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "default_cache_db_type",
        default: "btree",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "alias_database",
        default: "$default_database_type:/etc/aliases",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "hash_queue_names",
        default: "deferred, defer",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "recipient_delimiter",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "relay_domains",
        default: "${{$compatibility_level} <level {2} ? {$mydestination} : {}}",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "fast_flush_domains",
        default: "$relay_domains",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "export_environment",
        default: "TZ MAIL_CONFIG LANG",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "import_environment",
        default: "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME XDG_RUNTIME_DIR",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "mynetworks_style",
        default: "${{$compatibility_level} <level {2} ? {subnet} : {host}}",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "debug_peer_list",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "default_verp_delimiters",
        default: "+=",
        kind: Kind::Str { min: 2, max: 2 },
    },
    Parameter {
        name: "verp_delimiter_filter",
        default: "-=+",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "parent_domain_matches_subdomains",
        default: "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "alternate_config_directories",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "bounce_service_name",
        default: "bounce",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "cleanup_service_name",
        default: "cleanup",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "defer_service_name",
        default: "defer",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "pickup_service_name",
        default: "pickup",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "queue_service_name",
        default: "qmgr",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "rewrite_service_name",
        default: "rewrite",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "showq_service_name",
        default: "showq",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "error_service_name",
        default: "error",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "flush_service_name",
        default: "flush",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "address_verify_service_name",
        default: "verify",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "trace_service_name",
        default: "trace",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "proxymap_service_name",
        default: "proxymap",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "proxywrite_service_name",
        default: "proxywrite",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "internal_mail_filter_classes",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "multi_instance_wrapper",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "default_delivery_status_filter",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "smtputf8_autodetect_classes",
        default: "sendmail, verify",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "message_drop_headers",
        default: "bcc, content-length, resent-bcc, return-path",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "info_log_address_format",
        default: "external",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "non_bdb_migration_level",
        default: "disable",
        kind: Kind::Str { min: 1, max: 0 },
    },
    Parameter {
        name: "non_bdb_migration_service_name",
        default: "nbdb_reindex",
        kind: Kind::Str { min: 0, max: 0 },
    },
    Parameter {
        name: "non_bdb_custom_mapping",
        default: "",
        kind: Kind::Str { min: 0, max: 0 },
    },
];

/// `other_int_defaults`.
pub const INTEGERS: [Parameter; 18] = [
    Parameter {
        name: "default_process_limit",
        default: "100",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "max_use",
        default: "100",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "dont_remove",
        default: "0",
        kind: Kind::Int { min: 0, max: 0 },
    },
    Parameter {
        name: "line_length_limit",
        default: "2048",
        kind: Kind::Int { min: 512, max: 0 },
    },
    Parameter {
        name: "hash_queue_depth",
        default: "1",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "fork_attempts",
        default: "5",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "deliver_lock_attempts",
        default: "20",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "debug_peer_level",
        default: "2",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "fault_injection_code",
        default: "0",
        kind: Kind::Int { min: 0, max: 0 },
    },
    Parameter {
        name: "berkeley_db_create_buffer_size",
        default: "16777216",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "berkeley_db_read_buffer_size",
        default: "131072",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "header_size_limit",
        default: "102400",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "header_address_token_limit",
        default: "10240",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "mime_nesting_limit",
        default: "100",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "mime_boundary_length_limit",
        default: "2048",
        kind: Kind::Int { min: 1, max: 0 },
    },
    Parameter {
        name: "delay_logging_resolution_limit",
        default: "2",
        kind: Kind::Int { min: 0, max: 6 },
    },
    Parameter {
        name: "tcp_windowsize",
        default: "0",
        kind: Kind::Int { min: 0, max: 0 },
    },
    Parameter {
        name: "socketmap_max_reply_size",
        default: "100000",
        kind: Kind::Int { min: 1, max: 0 },
    },
];

/// `long_defaults`.
pub const LONGS: [Parameter; 2] = [
    Parameter {
        name: "message_size_limit",
        default: "10240000",
        kind: Kind::Long { min: 0, max: 0 },
    },
    Parameter {
        name: "lmdb_map_size",
        default: "16777216",
        kind: Kind::Long { min: 1, max: 0 },
    },
];

/// `bool_defaults`.
pub const BOOLEANS: [Parameter; 17] = [
    Parameter {
        name: "disable_dns_lookups",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "soft_bounce",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "owner_request_special",
        default: "yes",
        kind: Kind::Bool,
    },
    Parameter {
        name: "strict_8bitmime",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "strict_7bit_headers",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "strict_8bitmime_body",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "strict_mime_encoding_domain",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "disable_mime_input_processing",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "disable_mime_output_conversion",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "address_verify_negative_cache",
        default: "yes",
        kind: Kind::Bool,
    },
    Parameter {
        name: "backwards_bounce_logfile_compatibility",
        default: "yes",
        kind: Kind::Bool,
    },
    Parameter {
        name: "helpful_warnings",
        default: "yes",
        kind: Kind::Bool,
    },
    Parameter {
        name: "send_cyrus_sasl_authzid",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "multi_instance_enable",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "enable_long_queue_ids",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "strict_smtputf8",
        default: "no",
        kind: Kind::Bool,
    },
    Parameter {
        name: "enable_original_recipient",
        default: "yes",
        kind: Kind::Bool,
    },
];

/// `time_defaults`.
pub const TIMES: [Parameter; 11] = [
    Parameter {
        name: "application_event_drain_time",
        default: "100s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "max_idle",
        default: "100s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "ipc_timeout",
        default: "3600s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "ipc_idle",
        default: "5s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "ipc_ttl",
        default: "1000s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "trigger_timeout",
        default: "10s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "fork_delay",
        default: "1s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "deliver_lock_delay",
        default: "1s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "stale_lock_time",
        default: "500s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "daemon_timeout",
        default: "18000s",
        kind: Kind::Time { min: 1, max: 0 },
    },
    Parameter {
        name: "in_flow_delay",
        default: "1s",
        kind: Kind::Time { min: 0, max: 10 },
    },
];
/// Every table, in the library's order.
pub fn all() -> impl Iterator<Item = &'static Parameter> {
    std::iter::once(&COMPATIBILITY_LEVEL)
        .chain(FIRST_STRINGS.iter())
        .chain(FIRST_BOOLEANS.iter())
        .chain(FIRST_NAMED_BOOLEANS.iter())
        .chain(OTHER_STRINGS.iter())
        .chain(INTEGERS.iter())
        .chain(LONGS.iter())
        .chain(BOOLEANS.iter())
        .chain(TIMES.iter())
}

/// The upstream default of a table parameter.
pub fn upstream_default(name: &[u8]) -> Option<&'static str> {
    all().find(|p| p.name.as_bytes() == name).map(|p| p.default)
}
