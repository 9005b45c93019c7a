"""Block Kit ids: callback ids, block ids and action ids, used by views and listeners alike."""

# The request modal
CALLBACK_REQUEST = "jit_request"
BLOCK_ACCOUNT = "account"
ACTION_ACCOUNT = "account_select"
BLOCK_PERMISSION_SET = "permission_set"
ACTION_PERMISSION_SET = "permission_set_select"
BLOCK_DURATION = "duration"
ACTION_DURATION = "duration_select"
BLOCK_JUSTIFICATION = "justification"
ACTION_JUSTIFICATION = "justification_input"
BLOCK_TICKET = "ticket"
BLOCK_RULE_LINE = "rule_line"
ACTION_TICKET = "ticket_input"

# Approval messages
ACTION_APPROVE = "approve_request"
ACTION_REJECT = "reject_request"
ACTION_DETAILS = "view_request_details"
# The requester's thread root: remind the approvers who have not acted (issue 19)
ACTION_NUDGE = "nudge_approvers"

# The reject modal
CALLBACK_REJECT = "jit_reject"
BLOCK_REJECT_REASON = "reject_reason"
ACTION_REJECT_REASON = "reject_reason_input"

# App Home
ACTION_HOME_REQUEST = "home_request_access"
ACTION_HOME_NEWER = "home_newer"
ACTION_HOME_OLDER = "home_older"
ACTION_HOME_FILTER = "home_history_filter"
BLOCK_HOME_SEARCH = "home_account_search"
ACTION_HOME_SEARCH = "home_account_search_input"
ACTION_CANCEL = "cancel_request"
ACTION_RELEASE = "release_session"
ACTION_REVOKE = "revoke_session"
ACTION_OPEN_AWS = "open_aws_portal"
# On ended requests, Request again (opens the request modal filled in from the old request)
ACTION_REQUEST_AGAIN = "request_again"

# The revoke modal
CALLBACK_REVOKE = "jit_revoke"
BLOCK_REVOKE_REASON = "revoke_reason"
ACTION_REVOKE_REASON = "revoke_reason_input"

# Custom permission sets in the request modal
BLOCK_KIND = "ps_kind"
ACTION_KIND = "ps_kind_select"
BLOCK_CUSTOM_NAME = "custom_name"
ACTION_CUSTOM_NAME = "custom_name_input"
BLOCK_CUSTOM_SESSION = "custom_session"
ACTION_CUSTOM_SESSION = "custom_session_select"
BLOCK_CUSTOM_MANAGED = "custom_managed"
ACTION_CUSTOM_MANAGED = "custom_managed_select"
BLOCK_CUSTOM_INLINE = "custom_inline"
ACTION_CUSTOM_INLINE = "custom_inline_input"

# Extending an Active session (the Extend button, its modal, the approvers' buttons)
ACTION_EXTEND = "extend_session"
CALLBACK_EXTEND = "jit_extend"
BLOCK_EXTEND_DURATION = "extend_duration"
ACTION_EXTEND_DURATION = "extend_duration_select"
BLOCK_EXTEND_REASON = "extend_reason"
ACTION_EXTEND_REASON = "extend_reason_input"
ACTION_APPROVE_EXTENSION = "approve_extension"
ACTION_REJECT_EXTENSION = "reject_extension"
