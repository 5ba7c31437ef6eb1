package workload

import rego.v1

release_keys := {"release-key-1", "release-key-2"}

default allow := false

allow if {
	same_artifact
	signed
	suites_green
	cases_green
	coverage
	no_critical
	drift
	approvals
	soak
	rollback_ready
}

same_artifact if input.artifact.digest == input.stages.staging.artifact.digest

signed if {
	some s in input.artifact.signatures
	s.digest == input.artifact.digest
	s.keyid in release_keys
}

suites_green if {
	count(input.tests.suites) > 0
	every s in input.tests.suites {
		s.failed == 0
		s.passed > 0
	}
}

cases_green if {
	every s in input.tests.suites {
		every c in s.cases {
			c.status in {"passed", "skipped"}
		}
	}
}

coverage if input.tests.coverage >= 80

no_critical if not has_critical

has_critical if {
	some c in input.sbom.components
	some v in c.vulnerabilities
	v.severity == "critical"
}

ignored(k) if startswith(k, "endpoint.")

ignored(k) if k == "replicas"

drifted contains k if {
	some k, v in input.config.staging
	not ignored(k)
	not input.config.prod[k] == v
}

drifted contains k if {
	some k, _ in input.config.prod
	not ignored(k)
	not input.config.staging[k]
}

drift if count(drifted) <= 2

approvals if count({a.user | some a in input.approvals; a.role == "release-manager"}) >= 2

soak if {
	requested := time.parse_rfc3339_ns(input.promotion.requested_at)
	deployed := time.parse_rfc3339_ns(input.stages.staging.deployed_at)
	requested - deployed >= ((24 * 60) * 60) * 1000000000
}

rollback_ready if {
	input.rollback.previous_digest
	input.rollback.previous_digest != input.artifact.digest
}
