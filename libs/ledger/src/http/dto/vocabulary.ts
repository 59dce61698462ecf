/**
 * The closed vocabularies the DTOs validate against. They are owned by the domain; the edge only
 * re-exports them so that a new value is added in exactly one place.
 */
export {
  CHANNELS,
  CHARGE_OUTCOMES,
  CHURN_KINDS,
  CONTACT_DIRECTIONS,
  DISPUTE_CLOSE_OUTCOMES,
  DISPUTE_KINDS,
  DISPUTE_REASONS,
  ESCALATION_TARGETS,
  FAILURE_CATEGORIES,
  ISSUE_CATEGORIES,
  PRIORITIES,
  REFUND_FAILURE_REASONS,
  REFUND_REASONS,
  RESOLUTIONS,
} from '../../domain';
