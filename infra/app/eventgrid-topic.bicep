metadata description = 'Event Grid custom topic (CloudEvents 1.0, Entra-only) for Remediation outcome events (Remediation.Completed / Remediation.Escalated), with EventGrid Data Sender for the function identity.'

import { roleIds } from '../core/security/roles.bicep'

@description('Name of the Event Grid custom topic.')
param name string

@description('Azure region of the topic.')
param location string

@description('Tags applied to the topic.')
param tags object = {}

@description('Object id of the function app identity that publishes outcome events.')
param senderPrincipalId string

@description('Optional object id of a developer principal that may also publish (local debugging). Empty: none.')
param developerPrincipalId string = ''

@description('Principal type of developerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param developerPrincipalType string = 'User'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    // Publishers must use Microsoft Entra ID; access keys / SAS are disabled.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

var dataSenderRoleId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventGridDataSender)

resource senderRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderPrincipalId, dataSenderRoleId)
  scope: topic
  properties: {
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: dataSenderRoleId
  }
}

resource developerSenderRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(topic.id, developerPrincipalId, dataSenderRoleId)
  scope: topic
  properties: {
    principalId: developerPrincipalId
    principalType: developerPrincipalType
    roleDefinitionId: dataSenderRoleId
  }
}

@description('Name of the topic.')
output name string = topic.name

@description('Resource id of the topic.')
output id string = topic.id

@description('Publishing endpoint of the topic (not a secret: publishing requires an Entra token).')
output endpoint string = topic.properties.endpoint
