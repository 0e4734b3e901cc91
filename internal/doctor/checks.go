package doctor

// Checks is every diagnosis, in the order of the troubleshooting guide.
// docs/troubleshooting.md is generated from this list (see
// TestTroubleshootingGuideMatchesChecks), so the tool and the guide cannot
// drift apart.
var Checks = []Check{
	csrfCookieDomainCheck,
	sessionCookieDomainCheck,
	corsDashboardCheck,
	corsEntriesCheck,
	proxyCheck,
	oryCheck,
	oryPortsCheck,
	smtpCheck,
	databaseCheck,
	rolesCheck,
	schemaEventsCheck,
	clockCheck,
	secretsCheck,
	demoCheck,
}
