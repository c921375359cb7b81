"""Security suite (issue 9): ``make test PYTEST_ARGS="tests -m security"`` runs the whole
proof, these modules plus the marked tests elsewhere. Where each claim is proven:

1. XML external entities and entity-expansion bombs in responses are refused
   - test_xml_hardening.py::test_parser_refuses_entities_and_bombs_quickly_and_without_expanding
     (file and http entities, parameter entity, billion laughs, quadratic blow-up; also past
     the 4 KiB sniff), ::test_parser_refuses_a_utf16_bomb_the_byte_sniffing_cannot_see
   - test_xml_hardening.py::test_hook_refuses_a_hostile_session_answer_once_without_retrying,
     ::test_hook_refuses_a_hostile_page_in_the_middle_of_a_read (over real HTTP)
   - test_xml_hardening.py::test_sandbox_refuses_a_request_with_a_doctype_and_writes_nothing
   - tests/intacct/test_hook_scripted.py
     ::test_doctype_response_is_refused_without_expanding_entities
2. Passwords and session ids never appear in task logs, XCom, rendered fields, exception
   text or HTTP headers
   - test_secrets.py::
     test_a_real_pull_and_push_run_keeps_secrets_out_of_logs_xcom_fields_and_headers
     (a dag.test() run through a recording server: logs, XCom, rendered fields, error rows,
     headers and URLs)
   - test_secrets.py::test_auth_failures_name_no_password_right_or_wrong,
     ::test_a_failed_write_and_a_lost_session_name_no_secret
   - tests/intacct/test_hook_scripted.py::test_secrets_absent_from_logs_and_errors,
     ::test_no_extra_or_credential_becomes_an_http_header,
     ::test_passwords_and_session_ids_are_registered_with_airflows_masker
   - tests/intacct/test_sandbox.py::test_secrets_absent_from_captured_logs
   - tests/intacct/test_request.py::test_redact_xml_hides_passwords_and_session_ids,
     ::test_login_repr_never_shows_the_password
3. Record values with SQL or XML metacharacters are stored verbatim and harm nothing
   - test_metacharacters.py::test_hostile_values_created_in_intacct_are_pulled_verbatim,
     ::test_hostile_local_values_are_pushed_verbatim, ::test_nul_is_refused_clearly_on_both_sides,
     ::test_a_character_xml_cannot_carry_in_one_local_record_does_not_stop_the_others
   - tests/intacct/test_request.py (escaping of query literals and request bodies, field, object
     and key validation), tests/intacct/test_sandbox.py::test_hostile_filter_value_matches_literally
   - tests/ui/test_page_render.py::test_values_from_intacct_and_users_are_escaped
4. UI endpoints refuse unauthenticated and cross-site requests
   - tests/ui/test_sync_page_api.py::
     test_the_api_needs_a_login_and_reports_status_errors_and_a_true_tie_out
     (no login → 401, missing header and foreign origin → 403)
   - test_ui_requests.py::test_forged_tokens_and_cross_site_posts_are_refused_and_change_nothing
5. TLS verification is on for non-loopback endpoints
   - test_tls.py (http only on loopback, verify/verify_ssl extras refused, an untrusted
     certificate is IntacctCertificateError and nothing is sent, the same server trusted works)
   - tests/intacct/test_hook_scripted.py::test_plain_http_session_endpoint_on_other_host_is_refused
"""
