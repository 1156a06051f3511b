metadata description = 'Data-plane role assignments for the function app identity (storage + Application Insights) and, optionally, a developer principal for local debugging.'

import { roleIds } from '../core/security/roles.bicep'

@description('Name of the (existing) storage account.')
param storageAccountName string

@description('Name of the (existing) Application Insights component.')
param applicationInsightsName string

@description('Object (principal) id of the function app user-assigned identity.')
param identityPrincipalId string

@description('Optional object id of a developer (user, group or service principal) that gets the same storage data roles for local debugging. Empty: none.')
param developerPrincipalId string = ''

@description('Principal type of developerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param developerPrincipalType string = 'User'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Blob Data Owner is granted at account scope (not only the deployment container):
// the Functions host keeps leases, timers and keys in its own azure-webjobs-* containers.
var storageRoleIds = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

resource identityStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoleIds: {
    name: guid(
      storage.id,
      identityPrincipalId,
      subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    )
    scope: storage
    properties: {
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource identityTelemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(
    applicationInsights.id,
    identityPrincipalId,
    subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
  )
  scope: applicationInsights
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.monitoringMetricsPublisher
    )
  }
}

resource developerStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in (empty(developerPrincipalId) ? [] : storageRoleIds): {
    name: guid(
      storage.id,
      developerPrincipalId,
      subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    )
    scope: storage
    properties: {
      principalId: developerPrincipalId
      principalType: developerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]
