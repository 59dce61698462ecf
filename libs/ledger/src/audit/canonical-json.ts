// RFC 8785 is written once, in the verification package that auditors run too (packages/ledger-verify).
export { canonicalize } from '@payment-issue-ledger/verify';
