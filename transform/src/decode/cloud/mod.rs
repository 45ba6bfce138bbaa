//! Cloud control planes: AWS CloudTrail (ECS, ECR), the Azure Activity Log (Container
//! Instances) and GCP Cloud Audit Logs (GKE, Cloud Run).

pub(crate) mod azure_activity;
pub(crate) mod cloudtrail;
pub(crate) mod gcp_audit;
