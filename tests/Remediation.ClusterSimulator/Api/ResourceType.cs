namespace Remediation.ClusterSimulator.Api;

/// <summary>A served resource (one group/version/plural).</summary>
internal sealed record ResourceType(
    string Group,
    string Version,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced,
    string[] ShortNames,
    string[] Verbs,
    bool HasStatus = false,
    bool HasScale = false,
    bool IsCustom = false,
    bool InAllCategory = false)
{
    public string ApiVersion => Group == "" ? Version : $"{Group}/{Version}";

    /// <summary>"deployments.apps" / "pods", as used in API error messages.</summary>
    public string QualifiedName => Group == "" ? Plural : $"{Plural}.{Group}";

    public string ListKind => Kind + "List";

    public bool HasGeneration => IsCustom || Plural is "deployments" or "replicasets";
}

internal static class Resources
{
    private static readonly string[] Crud = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static readonly ResourceType Namespaces = new("", "v1", "namespaces", "namespace", "Namespace", false, ["ns"], ["create", "delete", "get", "list", "patch", "update", "watch"], HasStatus: true);
    public static readonly ResourceType Pods = new("", "v1", "pods", "pod", "Pod", true, ["po"], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType Events = new("", "v1", "events", "event", "Event", true, ["ev"], Crud);
    public static readonly ResourceType Services = new("", "v1", "services", "service", "Service", true, ["svc"], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType ConfigMaps = new("", "v1", "configmaps", "configmap", "ConfigMap", true, ["cm"], Crud);
    public static readonly ResourceType Deployments = new("apps", "v1", "deployments", "deployment", "Deployment", true, ["deploy"], Crud, HasStatus: true, HasScale: true, InAllCategory: true);
    public static readonly ResourceType ReplicaSets = new("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, ["rs"], Crud, HasStatus: true, HasScale: true, InAllCategory: true);
    public static readonly ResourceType StatefulSets = new("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, ["sts"], Crud, HasStatus: true, HasScale: true, InAllCategory: true);
    public static readonly ResourceType DaemonSets = new("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, ["ds"], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType Jobs = new("batch", "v1", "jobs", "job", "Job", true, [], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType CronJobs = new("batch", "v1", "cronjobs", "cronjob", "CronJob", true, ["cj"], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType Hpas = new("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, ["hpa"], Crud, HasStatus: true, InAllCategory: true);
    public static readonly ResourceType VirtualServices = new("networking.istio.io", "v1", "virtualservices", "virtualservice", "VirtualService", true, ["vs"], Crud, HasStatus: true, IsCustom: true);
    public static readonly ResourceType DestinationRules = new("networking.istio.io", "v1", "destinationrules", "destinationrule", "DestinationRule", true, ["dr"], Crud, HasStatus: true, IsCustom: true);
    public static readonly ResourceType Gateways = new("gateway.networking.k8s.io", "v1", "gateways", "gateway", "Gateway", true, ["gtw"], Crud, HasStatus: true, IsCustom: true);
    public static readonly ResourceType HttpRoutes = new("gateway.networking.k8s.io", "v1", "httproutes", "httproute", "HTTPRoute", true, [], Crud, HasStatus: true, IsCustom: true);
    public static readonly ResourceType SelfSubjectAccessReviews = new("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", false, [], ["create"]);
    public static readonly ResourceType SelfSubjectRulesReviews = new("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", false, [], ["create"]);
    public static readonly ResourceType Roles = new("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, [], Crud);
    public static readonly ResourceType RoleBindings = new("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, [], Crud);
    public static readonly ResourceType ClusterRoles = new("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, [], Crud);
    public static readonly ResourceType ClusterRoleBindings = new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, [], Crud);

    public static readonly IReadOnlyList<ResourceType> All =
    [
        Namespaces, Pods, Events, Services, ConfigMaps, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, Hpas,
        VirtualServices, DestinationRules, Gateways, HttpRoutes, SelfSubjectAccessReviews, SelfSubjectRulesReviews,
        Roles, RoleBindings, ClusterRoles, ClusterRoleBindings,
    ];

    /// <summary>Group → served versions (preferred first).</summary>
    public static IEnumerable<(string Group, string Version)> GroupVersions =>
        All.Where(r => r.Group != "").Select(r => (r.Group, r.Version)).Distinct();

    public static ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);

    public static ResourceType? ByPlural(string plural) => All.FirstOrDefault(r => r.Plural == plural);

    public static ResourceType? ByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(r => r.ApiVersion == apiVersion && r.Kind == kind);
}
