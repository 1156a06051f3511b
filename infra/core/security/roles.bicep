// Built-in Azure role definition ids used by this template.
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// Imported with `import { roleIds } from '<relative path>/core/security/roles.bicep'`.

@export()
@description('Built-in role definition ids (GUIDs) for the roles this solution assigns.')
var roleIds = {
  // Blob read/write/delete + ACLs. The Functions host (AzureWebJobsStorage) needs it for
  // leases, host secrets and keys; Flex Consumption needs it for the deployment container.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Read, write and delete queues and messages: queue trigger + enqueueing remediation work.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Read, write and delete tables and entities: the `incidents` table.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Publish telemetry to Application Insights with Microsoft Entra (AAD) authentication.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Publish events to an Event Grid topic with Microsoft Entra authentication.
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  // Read/write most namespaced Kubernetes objects through Azure RBAC for Kubernetes authorization.
  aksRbacWriter: 'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb'
}
