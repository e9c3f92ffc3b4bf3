package devidp

// Persona is an identity offered on the picker page. Subject becomes the
// ID token's sub and must be unique within a Config.
type Persona struct {
	Subject     string
	Name        string
	Email       string
	Groups      []string
	Description string
}

// Group names that Countersign maps to roles. They live here only so the
// default personas and the console's role mapping can be compared in tests.
const (
	GroupSupportLeads     = "support-leads"
	GroupFinanceApprovers = "finance-approvers"
	GroupAdmins           = "admins"
	GroupAuditors         = "auditors"
)

// DefaultPersonas returns one persona per role, a second finance approver so
// four-eyes approvals can be exercised, and one persona holding two roles.
// Each call returns fresh slices, so callers may modify the result.
func DefaultPersonas() []Persona {
	return []Persona{
		{Subject: "sam", Name: "Sam Support", Email: "sam@example.com",
			Groups:      []string{GroupSupportLeads},
			Description: "Support lead. Try: in All open press j/k and a to assign, open a case, verify a recipient, request approval."},
		{Subject: "fiona", Name: "Fiona Finance", Email: "fiona@example.com",
			Groups:      []string{GroupFinanceApprovers},
			Description: "Finance approver. Try: you land on Awaiting my approval; approve the case with 1 of 2 approvals, with a comment, and see the receipts; approve the invoice resend and see its PDF in the receipts."},
		{Subject: "felix", Name: "Felix Finance", Email: "felix@example.com",
			Groups:      []string{GroupFinanceApprovers},
			Description: "Second finance approver, for four-eyes approvals. Try: open a failed refund from the dashboard and retry it, cancel it, mark it resolved outside Countersign, or edit it and ask again."},
		{Subject: "ada", Name: "Ada Admin", Email: "ada@example.com",
			Groups:      []string{GroupAdmins},
			Description: "Administrator. Try: change the approval policy in its form and preview a sample case; on a case, follow Sandbox requests from an action to what it sent."},
		{Subject: "audrey", Name: "Audrey Auditor", Email: "audrey@example.com",
			Groups:      []string{GroupAuditors},
			Description: "Auditor. Try: you land on the audit log; verify the chain, download a case's evidence bundle, check it with countersign audit verify --bundle."},
		{Subject: "morgan", Name: "Morgan Multi", Email: "morgan@example.com",
			Groups:      []string{GroupSupportLeads, GroupFinanceApprovers},
			Description: "Support lead and finance approver: checks that nobody approves their own request."},
	}
}
