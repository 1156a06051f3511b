metadata description = 'Azure Monitor action group whose webhook receiver (common alert schema) posts alerts to the Remediation /api/alerts/azuremonitor function.'

@description('Name of the action group.')
param name string

@description('Short name shown in SMS/e-mail notifications (at most 12 characters).')
@maxLength(12)
param shortName string = 'remediation'

@description('Tags applied to the action group.')
param tags object = {}

@description('Host name of the function app, e.g. <app>.azurewebsites.net.')
param functionAppHostName string

@description('Optional function (or host) key appended as ?code=. Function keys do not exist before the first deployment, so leave it empty on the first `azd up`, then set it and provision again (see docs/DEPLOY.md). It ends up in the receiver URI, which readers of the action group can see.')
@secure()
param functionKey string = ''

var webhookBaseUri = 'https://${functionAppHostName}/api/alerts/azuremonitor'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: name
  // Action groups are global resources.
  location: 'global'
  tags: tags
  properties: {
    groupShortName: shortName
    enabled: true
    webhookReceivers: [
      {
        name: 'remediation-function'
        serviceUri: empty(functionKey) ? webhookBaseUri : '${webhookBaseUri}?code=${functionKey}'
        useCommonAlertSchema: true
        useAadAuth: false
      }
    ]
  }
}

@description('Resource id of the action group; attach it to alert rules.')
output id string = actionGroup.id

@description('Name of the action group.')
output name string = actionGroup.name

@description('Webhook URL without the key.')
output webhookUri string = webhookBaseUri
