-- Prosody XMPP Server Configuration (Debian package default, trimmed comments)
admins = { }

modules_enabled = {
	"roster"; "saslauth"; "tls"; "dialback"; "disco";
	"carbons"; "pep"; "private"; "blocklist"; "vcard4"; "vcard_legacy";
	"version"; "uptime"; "time"; "ping"; "register"; "admin_adhoc";
	"posix";
}

modules_disabled = {
	-- "offline";
	-- "c2s";
	-- "s2s";
}

allow_registration = false
daemonize = true;
pidfile = "/var/run/prosody/prosody.pid";

c2s_require_encryption = false
s2s_secure_auth = false

authentication = "internal_plain"

log = {
	info = "/var/log/prosody/prosody.log";
	error = "/var/log/prosody/prosody.err";
	"*syslog";
}

certificates = "certs"

VirtualHost "localhost"

Include "conf.d/*.cfg.lua"
