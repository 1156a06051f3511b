using System.Text.Json.Nodes;
using CsCheck;
using Remediation.Actions;
using Remediation.Cluster;

namespace Remediation.Tests.Actions;

/// <summary>
/// AppliedState against Deployment/HPA/VirtualService JSON as the API returns it, with patches built exactly as the
/// actions build them (RollbackAction, RolloutRestartAction, ScaleOutAction, TrafficShiftAction, DeletePodAction).
/// </summary>
public sealed class AppliedStateTests
{
    private const string Restarted = "kubectl.kubernetes.io/restartedAt";

    // ------------------------------------------------------------------ objects as the API returns them

    private static JsonObject Template(string image, string? restartedAt = null)
    {
        var metadata = new JsonObject { ["labels"] = new JsonObject { ["app"] = "checkout", ["version"] = "v1" } };
        if (restartedAt is not null)
        {
            metadata["annotations"] = new JsonObject { [Restarted] = restartedAt };
        }
        return new JsonObject
        {
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["name"] = "checkout",
                        ["image"] = image,
                        ["ports"] = new JsonArray { new JsonObject { ["containerPort"] = 8080, ["protocol"] = "TCP" } },
                        ["resources"] = new JsonObject { ["limits"] = new JsonObject { ["memory"] = "256Mi" } },
                        ["terminationMessagePath"] = "/dev/termination-log",
                        ["terminationMessagePolicy"] = "File",
                        ["imagePullPolicy"] = "IfNotPresent",
                    },
                },
                ["restartPolicy"] = "Always",
                ["terminationGracePeriodSeconds"] = 30,
                ["dnsPolicy"] = "ClusterFirst",
                ["securityContext"] = new JsonObject(),
                ["schedulerName"] = "default-scheduler",
            },
        };
    }

    private static JsonObject Deployment(string image, string resourceVersion = "812", int replicas = 3, string? restartedAt = null, int revision = 2, string changeCause = "deploy checkout 1.5.0") => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject
        {
            ["name"] = "checkout",
            ["namespace"] = "shop",
            ["uid"] = "5d0c7f3e-8f7a-4a47-9d7e-3a1f0d4c2b11",
            ["resourceVersion"] = resourceVersion,
            ["generation"] = revision,
            ["creationTimestamp"] = "2026-03-01T09:00:00Z",
            ["labels"] = new JsonObject { ["app"] = "checkout" },
            ["annotations"] = new JsonObject
            {
                ["deployment.kubernetes.io/revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["kubernetes.io/change-cause"] = changeCause,
            },
            ["managedFields"] = new JsonArray { new JsonObject { ["manager"] = "kubectl", ["operation"] = "Update", ["time"] = "2026-03-02T08:00:00Z" } },
        },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "checkout" } },
            ["template"] = Template(image, restartedAt),
            ["strategy"] = new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = "25%", ["maxSurge"] = "25%" } },
            ["revisionHistoryLimit"] = 10,
            ["progressDeadlineSeconds"] = 600,
        },
        ["status"] = new JsonObject { ["observedGeneration"] = revision, ["replicas"] = replicas, ["readyReplicas"] = 1, ["updatedReplicas"] = replicas },
    };

    /// <summary>The object after the API applied a write: new resourceVersion and generation, status and revision moved on.</summary>
    private static JsonObject AsServerReturns(JsonObject obj, string resourceVersion, int revision)
    {
        var after = obj.DeepClone().AsObject();
        after["metadata"]!["resourceVersion"] = resourceVersion;
        after["metadata"]!["generation"] = revision;
        after["metadata"]!["managedFields"] = new JsonArray { new JsonObject { ["manager"] = "remediation", ["operation"] = "Update" } };
        after["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        after["status"] = new JsonObject { ["observedGeneration"] = revision, ["replicas"] = 4, ["readyReplicas"] = 2 };
        return after;
    }

    private static JsonNode Apply(JsonNode target, JsonArray patch)
    {
        var doc = target.DeepClone();
        foreach (var op in patch.OfType<JsonObject>().Where(o => (string?)o["op"] != "test"))
        {
            var tokens = ((string)op["path"]!)[1..].Split('/');
            var parent = tokens[..^1].Aggregate(doc, (n, t) => n[t]!);
            parent[tokens[^1]] = op["value"]!.DeepClone();
        }
        return doc;
    }

    // ------------------------------------------------------------------ patches as the actions build them

    /// <summary>RollbackAction: test resourceVersion, replace spec.template (the healthy ReplicaSet's, hash label dropped),
    /// replace metadata.annotations (kubectl's skip-list kept from the Deployment, the rest from the ReplicaSet).</summary>
    private static Mutation Rollback(JsonObject deployment, string healthyImage)
    {
        var resourceVersion = (string)deployment["metadata"]!["resourceVersion"]!;
        var annotations = new JsonObject
        {
            ["deployment.kubernetes.io/revision"] = (string)deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!,
            ["kubernetes.io/change-cause"] = "deploy checkout 1.4.2",
        };
        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = resourceVersion },
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = Template(healthyImage) },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations },
        };
        return new Mutation
        {
            Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = "json",
            Patch = patch.ToJsonString(), ResourceVersion = resourceVersion, Description = "replace spec.template with revision 1's",
        };
    }

    /// <summary>RolloutRestartAction: merge patch of metadata.resourceVersion and the template's restartedAt annotation.</summary>
    private static Mutation Restart(string resourceVersion, string restartedAt) => new()
    {
        Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = "merge",
        Patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [Restarted] = restartedAt } } } },
        }.ToJsonString(),
        ResourceVersion = resourceVersion, Description = "set restartedAt",
    };

    /// <summary>ScaleOutAction.Patch: {"spec":{field:value},"metadata":{"resourceVersion":rv}} (no metadata in the revert).</summary>
    private static Mutation Scale(MutationKind kind, string name, string field, int value, string? resourceVersion)
    {
        var patch = new JsonObject { ["spec"] = new JsonObject { [field] = value } };
        if (resourceVersion is not null)
        {
            patch["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion };
        }
        return new Mutation { Kind = kind, Namespace = "shop", Name = name, Patch = patch.ToJsonString(), ResourceVersion = resourceVersion, Description = "scale" };
    }

    private static JsonObject VirtualService(int v1, int v2, string resourceVersion = "400", string? original = null)
    {
        var metadata = new JsonObject { ["name"] = "reviews", ["namespace"] = "shop", ["resourceVersion"] = resourceVersion, ["generation"] = 1 };
        if (original is not null)
        {
            metadata["annotations"] = new JsonObject { [TrafficShiftAction.OriginalRoutesAnnotation] = original };
        }
        return new JsonObject
        {
            ["apiVersion"] = "networking.istio.io/v1",
            ["kind"] = "VirtualService",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["hosts"] = new JsonArray { "reviews" },
                ["http"] = Routes(v1, v2),
            },
        };
    }

    private static JsonArray Routes(int v1, int v2) => new()
    {
        new JsonObject
        {
            ["route"] = new JsonArray
            {
                new JsonObject { ["destination"] = new JsonObject { ["host"] = "reviews", ["subset"] = "v1" }, ["weight"] = v1 },
                new JsonObject { ["destination"] = new JsonObject { ["host"] = "reviews", ["subset"] = "v2" }, ["weight"] = v2 },
            },
        },
    };

    /// <summary>TrafficShiftAction.AddMutations: merge patch of resourceVersion, the original-routes annotation and spec.http.</summary>
    private static Mutation Shift(JsonObject vs, JsonArray shifted) => new()
    {
        Kind = MutationKind.PatchVirtualService, Namespace = "shop", Name = "reviews",
        Patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = vs["metadata"]!["resourceVersion"]!.DeepClone(),
                ["annotations"] = new JsonObject { [TrafficShiftAction.OriginalRoutesAnnotation] = vs["spec"]!["http"]!.ToJsonString() },
            },
            ["spec"] = new JsonObject { ["http"] = shifted },
        }.ToJsonString(),
        ResourceVersion = (string?)vs["metadata"]!["resourceVersion"], Description = "shift",
    };

    private static Mutation DeletePod(string name) => new()
    {
        Kind = MutationKind.DeletePod, Namespace = "shop", Name = name, ResourceVersion = "900", Description = $"delete pod {name}",
    };

    // ------------------------------------------------------------------ rollback (JSON patch)

    [Fact]
    public void Rollback_is_applied_once_the_deployment_has_the_healthy_template_and_annotations()
    {
        var before = Deployment("registry.example/checkout:1.5.0");
        var mutation = Rollback(before, "registry.example/checkout:1.4.2");
        var after = AsServerReturns(Apply(before, JsonNode.Parse(mutation.Patch!)!.AsArray()).AsObject(), "815", revision: 3);

        Assert.True(AppliedState.IsApplied(mutation, after));
        Assert.Null(AppliedState.Difference(mutation, after));
    }

    [Fact]
    public void Rollback_is_not_applied_to_the_unchanged_deployment_and_says_which_image_differs()
    {
        var before = Deployment("registry.example/checkout:1.5.0");
        var mutation = Rollback(before, "registry.example/checkout:1.4.2");

        Assert.False(AppliedState.IsApplied(mutation, before));
        Assert.Equal("metadata.annotations[kubernetes.io/change-cause] is 'deploy checkout 1.5.0', the plan wrote 'deploy checkout 1.4.2'",
            AppliedState.Difference(mutation, before));
    }

    [Fact]
    public void Rollback_stays_applied_when_someone_else_changed_only_other_fields()
    {
        var before = Deployment("registry.example/checkout:1.5.0");
        var mutation = Rollback(before, "registry.example/checkout:1.4.2");
        var after = AsServerReturns(Apply(before, JsonNode.Parse(mutation.Patch!)!.AsArray()).AsObject(), "815", revision: 3);
        after["spec"]!["replicas"] = 6;                                      // an HPA scaled it
        after["metadata"]!["labels"]!["team"] = "payments";                  // someone labelled it
        after["spec"]!["template"]!["spec"]!["containers"]![0]!["args"] = null; // null and absent are the same

        Assert.True(AppliedState.IsApplied(mutation, after));
    }

    [Fact]
    public void Rollback_is_not_applied_when_the_deployment_now_runs_a_different_image()
    {
        var before = Deployment("registry.example/checkout:1.5.0");
        var mutation = Rollback(before, "registry.example/checkout:1.4.2");
        var after = AsServerReturns(Apply(before, JsonNode.Parse(mutation.Patch!)!.AsArray()).AsObject(), "815", revision: 3);
        after["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "registry.example/checkout:1.6.0";

        Assert.False(AppliedState.IsApplied(mutation, after));
        Assert.Equal("spec.template.spec.containers[0].image is 'registry.example/checkout:1.6.0', the plan wrote 'registry.example/checkout:1.4.2'",
            AppliedState.Difference(mutation, after));
    }

    [Fact]
    public void Pod_template_is_compared_as_json_values_not_text()
    {
        var before = Deployment("registry.example/checkout:1.5.0");
        var mutation = Rollback(before, "registry.example/checkout:1.4.2");
        // Same template, members in another order and numbers parsed from text (as the API's JSON arrives).
        var after = JsonNode.Parse(AsServerReturns(Apply(before, JsonNode.Parse(mutation.Patch!)!.AsArray()).AsObject(), "815", 3).ToJsonString())!.AsObject();
        var container = after["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();
        var reordered = new JsonObject(container.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())).ToList());
        after["spec"]!["template"]!["spec"]!["containers"]![0] = reordered;

        Assert.True(AppliedState.IsApplied(mutation, after));
    }

    // ------------------------------------------------------------------ restart, scale, traffic shift (merge patches)

    [Fact]
    public void Restart_is_applied_when_the_template_carries_the_plans_restartedAt()
    {
        var before = Deployment("registry.example/checkout:1.4.2", restartedAt: "2026-03-01T08:00:00Z");
        var mutation = Restart("812", "2026-03-02T09:00:00Z");
        var after = Deployment("registry.example/checkout:1.4.2", resourceVersion: "820", restartedAt: "2026-03-02T09:00:00Z", revision: 3);

        Assert.True(AppliedState.IsApplied(mutation, after));
        Assert.False(AppliedState.IsApplied(mutation, before));
        Assert.Equal("spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt] is '2026-03-01T08:00:00Z', the plan wrote '2026-03-02T09:00:00Z'",
            AppliedState.Difference(mutation, before));
        Assert.Equal("spec.template.metadata.annotations is absent, the plan wrote {\"kubectl.kubernetes.io/restartedAt\":\"2026-03-02T09:00:00Z\"}",
            AppliedState.Difference(mutation, Deployment("registry.example/checkout:1.4.2")));
    }

    [Fact]
    public void Scale_out_is_applied_at_the_planned_size_whether_the_deployment_or_its_scale_subresource_is_read()
    {
        var mutation = Scale(MutationKind.PatchDeploymentScale, "checkout", "replicas", 5, "812");
        Assert.True(AppliedState.IsApplied(mutation, Deployment("registry.example/checkout:1.4.2", resourceVersion: "813", replicas: 5)));
        Assert.False(AppliedState.IsApplied(mutation, Deployment("registry.example/checkout:1.4.2", replicas: 3)));
        Assert.Equal("spec.replicas is 3, the plan wrote 5", AppliedState.Difference(mutation, Deployment("registry.example/checkout:1.4.2", replicas: 3)));

        var scale = JsonNode.Parse("""{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"checkout","namespace":"shop","resourceVersion":"813"},"spec":{"replicas":5},"status":{"replicas":3,"selector":"app=checkout"}}""")!.AsObject();
        Assert.True(AppliedState.IsApplied(mutation, scale));
    }

    [Fact]
    public void Hpa_max_replicas_raise_and_its_revert_are_judged_by_maxReplicas_only()
    {
        var hpa = JsonNode.Parse("""{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"checkout","namespace":"shop","resourceVersion":"77"},"spec":{"minReplicas":2,"maxReplicas":8,"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"checkout"}},"status":{"currentReplicas":8,"desiredReplicas":8}}""")!.AsObject();
        var raise = Scale(MutationKind.PatchHorizontalPodAutoscaler, "checkout", "maxReplicas", 10, "70");
        var revert = Scale(MutationKind.PatchHorizontalPodAutoscaler, "checkout", "maxReplicas", 8, null);

        Assert.False(AppliedState.IsApplied(raise, hpa));
        Assert.True(AppliedState.IsApplied(revert, hpa));
        hpa["spec"]!["maxReplicas"] = 10;
        hpa["status"]!["currentReplicas"] = 10;
        Assert.True(AppliedState.IsApplied(raise, hpa));
    }

    [Fact]
    public void Traffic_shift_is_applied_when_the_routes_and_the_original_routes_annotation_are_there()
    {
        var before = VirtualService(50, 50);
        var mutation = Shift(before, Routes(100, 0));
        var after = VirtualService(100, 0, resourceVersion: "401", original: before["spec"]!["http"]!.ToJsonString());

        Assert.True(AppliedState.IsApplied(mutation, after));
        Assert.False(AppliedState.IsApplied(mutation, before));
        var halfway = VirtualService(90, 10, resourceVersion: "402", original: before["spec"]!["http"]!.ToJsonString());
        Assert.Equal("spec.http[0].route[0].weight is 90, the plan wrote 100", AppliedState.Difference(mutation, halfway));
    }

    [Fact]
    public void Revert_merge_patch_null_means_the_annotation_must_be_gone()
    {
        var original = Routes(50, 50);
        var revert = new Mutation
        {
            Kind = MutationKind.PatchVirtualService, Namespace = "shop", Name = "reviews", Description = "restore",
            Patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [TrafficShiftAction.OriginalRoutesAnnotation] = null } },
                ["spec"] = new JsonObject { ["http"] = original },
            }.ToJsonString(),
        };
        Assert.True(AppliedState.IsApplied(revert, VirtualService(50, 50, resourceVersion: "500")));
        // Its only annotation deleted, the map is gone (the API does not keep an empty one).
        Assert.Equal($$"""metadata.annotations is {"{{TrafficShiftAction.OriginalRoutesAnnotation}}":"[]"}, the plan removed it""",
            AppliedState.Difference(revert, VirtualService(50, 50, original: "[]")));
        var other = VirtualService(50, 50, original: "[]");
        other["metadata"]!["annotations"]!["owner"] = "sre";
        Assert.Equal($"metadata.annotations[{TrafficShiftAction.OriginalRoutesAnnotation}] is '[]', the plan removed it", AppliedState.Difference(revert, other));
    }

    [Fact]
    public void Strategic_patch_merges_maps_like_a_merge_patch_and_refuses_directives()
    {
        var deployment = Deployment("registry.example/checkout:1.4.2", replicas: 4);
        Assert.True(AppliedState.IsApplied(new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = "strategic", Patch = """{"spec":{"replicas":4}}""", Description = "" }, deployment));
        Assert.False(AppliedState.IsApplied(new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = "strategic", Patch = """{"spec":{"replicas":4,"$retainKeys":["replicas"]}}""", Description = "" }, deployment));
    }

    // ------------------------------------------------------------------ delete pod

    [Fact]
    public void Deleted_pod_is_applied_when_gone_or_terminating_and_not_while_it_runs()
    {
        var running = JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"checkout-7d9c-abcde","namespace":"shop","resourceVersion":"900"},"status":{"phase":"Running"}}""")!.AsObject();
        var terminating = running.DeepClone().AsObject();
        terminating["metadata"]!["deletionTimestamp"] = "2026-03-02T09:00:05Z";
        terminating["metadata"]!["deletionGracePeriodSeconds"] = 30;

        Assert.True(AppliedState.IsApplied(DeletePod("checkout-7d9c-abcde"), null));
        Assert.True(AppliedState.IsApplied(DeletePod("checkout-7d9c-abcde"), terminating));
        Assert.False(AppliedState.IsApplied(DeletePod("checkout-7d9c-abcde"), running));
        Assert.Equal("pod checkout-7d9c-abcde still exists and is not terminating", AppliedState.Difference(DeletePod("checkout-7d9c-abcde"), running));
    }

    // ------------------------------------------------------------------ never applied without proof

    [Theory]
    [InlineData("apply", """{"spec":{"replicas":3}}""")]
    [InlineData("", """{"spec":{"replicas":3}}""")]
    [InlineData("merge", """[{"op":"replace","path":"/spec/replicas","value":3}]""")]
    [InlineData("merge", """{"spec":""")]
    [InlineData("json", """{"spec":{"replicas":3}}""")]
    [InlineData("json", """[{"op":"replace","path":"spec/replicas","value":3}]""")]
    [InlineData("json", """[{"op":"replace","path":"/spec/replicas"}]""")]
    [InlineData("json", """[{"op":"frobnicate","path":"/spec/replicas","value":3}]""")]
    [InlineData("json", """[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"sidecar"}}]""")]
    [InlineData("json", """[{"op":"move","from":"/spec/paused","path":"/spec/replicas"}]""")]
    [InlineData("json", """[{"op":"replace","path":"/spec/nothing/here","value":1}]""")]
    public void Patches_it_cannot_interpret_or_that_change_the_object_are_not_applied(string patchType, string patch)
    {
        var deployment = Deployment("registry.example/checkout:1.4.2", replicas: 3);
        var mutation = new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = patchType, Patch = patch, Description = "" };
        Assert.False(AppliedState.IsApplied(mutation, deployment));
        Assert.False(string.IsNullOrWhiteSpace(AppliedState.Difference(mutation, deployment)));
    }

    [Fact]
    public void A_patch_on_an_absent_object_or_without_a_body_is_not_applied()
    {
        Assert.False(AppliedState.IsApplied(Restart("812", "2026-03-02T09:00:00Z"), null));
        Assert.Equal("checkout does not exist", AppliedState.Difference(Restart("812", "2026-03-02T09:00:00Z"), null));
        Assert.False(AppliedState.IsApplied(Restart("812", "x") with { Patch = null }, Deployment("registry.example/checkout:1.4.2")));
    }

    [Fact]
    public void Json_patch_remove_copy_and_test_ops_are_judged_on_what_they_leave()
    {
        var paused = Deployment("registry.example/checkout:1.4.2");
        paused["spec"]!["paused"] = true;
        var unpaused = Deployment("registry.example/checkout:1.4.2");
        Mutation Json(string ops) => new() { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", PatchType = "json", Patch = ops, Description = "" };

        var remove = Json("""[{"op":"test","path":"/metadata/resourceVersion","value":"1"},{"op":"remove","path":"/spec/paused"}]""");
        Assert.True(AppliedState.IsApplied(remove, unpaused));
        Assert.Equal("spec.paused is true, the plan removed it", AppliedState.Difference(remove, paused));

        var copy = Json("""[{"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/service"}]""");
        Assert.False(AppliedState.IsApplied(copy, unpaused));
        unpaused["metadata"]!["labels"]!["service"] = "checkout";
        Assert.True(AppliedState.IsApplied(copy, unpaused));

        var escaped = Json("""[{"op":"add","path":"/metadata/annotations/example.com~1owner","value":"sre"}]""");
        Assert.Equal("metadata.annotations[example.com/owner] is absent, the plan wrote 'sre'", AppliedState.Difference(escaped, unpaused));
        unpaused["metadata"]!["annotations"]!["example.com/owner"] = "sre";
        Assert.True(AppliedState.IsApplied(escaped, unpaused));
    }

    // ------------------------------------------------------------------ property: merge patches

    /// <summary>RFC 7386 MergePatch, written out again here independently of the product's.</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject t ? t.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                var merged = MergePatch(result[key], value);
                result.Remove(key);
                result[key] = merged;
            }
        }
        return result;
    }

    private static readonly Gen<string> Key = Gen.OneOfConst("a", "b", "c", "d");

    private static readonly Gen<JsonNode> Scalar = Gen.OneOf(
        Gen.Int[-3, 3].Select(i => (JsonNode)JsonValue.Create(i)),
        Gen.OneOfConst("x", "y", "").Select(s => (JsonNode)JsonValue.Create(s)),
        Gen.Bool.Select(b => (JsonNode)JsonValue.Create(b)),
        Gen.Int[0, 2].Array[0, 3].Select(a => (JsonNode)new JsonArray(a.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray())));

    /// <summary>Small objects without nulls (the API never stores a null member).</summary>
    private static Gen<JsonObject> Objects(int depth) =>
        Gen.Select(Key, depth == 0 ? Scalar : Gen.Frequency((3, Scalar), (1, Objects(depth - 1).Select(o => (JsonNode)o))))
            .Array[0, 4]
            .Select(members => Build(members.Select(m => (m.Item1, (JsonNode?)m.Item2))));

    /// <summary>Merge patches: members that delete (null), replace (scalar/array) or merge (nested patch).</summary>
    private static Gen<JsonObject> Patches(int depth) =>
        Gen.Select(Key, depth == 0
                ? Gen.Frequency((1, Gen.Const((JsonNode?)null)), (3, Scalar.Select(s => (JsonNode?)s)))
                : Gen.Frequency((1, Gen.Const((JsonNode?)null)), (3, Scalar.Select(s => (JsonNode?)s)), (2, Patches(depth - 1).Select(o => (JsonNode?)o))))
            .Array[1, 4]
            .Select(members => Build(members.Select(m => (m.Item1, (JsonNode?)m.Item2))));

    private static JsonObject Build(IEnumerable<(string Key, JsonNode? Value)> members)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in members)
        {
            obj[key] = value?.DeepClone();
        }
        return obj;
    }

    private static JsonNode? WithoutEmptyObjects(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, WithoutEmptyObjects(p.Value))).Where(p => p.Value is not JsonObject { Count: 0 })),
        _ => node?.DeepClone(),
    };

    private const int PropertyIterations = 10_000;
    private const ulong PropertySeed = 0x5EED_A991_1ED5_7A7E;

    [Fact]
    public void Merge_patch_is_applied_to_its_own_result_and_not_to_an_object_it_would_change()
    {
        var gen = Gen.Select(Objects(2), Patches(2));
        var changing = 0;
        for (var i = 0; i < PropertyIterations; i++)
        {
            // Seeded and sequential: a failure names the iteration, and re-running gives the same inputs.
            var (obj, patch) = gen.Generate(new PCG(1, PropertySeed + (ulong)i), null, out _);
            var mutation = new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "ns", Name = "n", PatchType = "merge", Patch = patch.ToJsonString(), Description = "" };
            var applied = MergePatch(obj, patch)!.AsObject();
            var context = $"iteration {i}: object {obj.ToJsonString()} patch {patch.ToJsonString()} result {applied.ToJsonString()}";

            Assert.True(AppliedState.IsApplied(mutation, applied), $"{context}: {AppliedState.Difference(mutation, applied)}");
            // "Changes" as the API sees it: a member that became {} (a patch of only deletions under an absent key) is not stored.
            if (!JsonNode.DeepEquals(WithoutEmptyObjects(applied), WithoutEmptyObjects(obj)))
            {
                changing++;
                Assert.False(AppliedState.IsApplied(mutation, obj), $"{context}: applied although the patch changes the object");
                Assert.NotNull(AppliedState.Difference(mutation, obj));
            }
            else
            {
                Assert.True(AppliedState.IsApplied(mutation, obj), context);
            }
        }
        Assert.True(changing > PropertyIterations / 2, $"only {changing} of {PropertyIterations} patches changed their object");
    }
}
