using System.Globalization;
using Remediation.Text;

namespace Remediation.ServiceGraph;

/// <summary>A node's box and its two lines of text: the workload and its health with the blame mark.</summary>
public sealed record SvgNode(LayoutNode Node, int X, int Y, string Name, string Status, string Title)
{
    public int Width => GraphSvgGeometry.NodeWidth;

    public int Height => GraphSvgGeometry.NodeHeight;

    /// <summary>The CSS class of the node's health (<c>health-failure</c>).</summary>
    public string HealthClass => GraphSvgGeometry.HealthClass(Node.Health);
}

/// <summary>An edge's line, its arrow head (polygon points) and where its label goes.</summary>
public sealed record SvgEdge(LayoutEdge Edge, int X1, int Y1, int X2, int Y2, string Arrow, int LabelX, int LabelY)
{
    public string HealthClass => GraphSvgGeometry.HealthClass(Edge.Health);
}

/// <summary>
/// Where each node and edge of a <see cref="GraphLayout"/> is drawn in an SVG, in whole pixels: columns left to right by
/// call depth, rows top to bottom; edges from a caller's right side to the callee's left side (or between the top and
/// bottom of nodes of one column). Plain numbers and text only: the page writes them as encoded attributes and text.
/// </summary>
public sealed record GraphSvgGeometry(IReadOnlyList<SvgNode> Nodes, IReadOnlyList<SvgEdge> Edges, int Width, int Height)
{
    public const int NodeWidth = 180;
    public const int NodeHeight = 44;
    private const int ColumnGap = 160;
    private const int RowGap = 28;
    private const int Margin = 14;
    private const int MaxName = 24;

    public static GraphSvgGeometry Of(GraphLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var nodes = layout.Nodes.Select(n => new SvgNode(n, Margin + (n.Column * (NodeWidth + ColumnGap)), Margin + (n.Row * (NodeHeight + RowGap)),
            Truncate(n.Workload.ToString()), Status(n), Title(n))).ToList();
        var at = nodes.GroupBy(n => n.Node.Workload).ToDictionary(g => g.Key, g => g.First());
        var edges = new List<SvgEdge>();
        foreach (var edge in layout.Edges.Where(e => e.From != e.To))
        {
            if (at.TryGetValue(edge.From, out var from) && at.TryGetValue(edge.To, out var to))
            {
                edges.Add(Line(edge, from, to));
            }
        }

        var width = layout.Columns == 0 ? 0 : (2 * Margin) + (layout.Columns * NodeWidth) + ((layout.Columns - 1) * ColumnGap);
        var height = layout.Rows == 0 ? 0 : (2 * Margin) + (layout.Rows * NodeHeight) + ((layout.Rows - 1) * RowGap);
        return new GraphSvgGeometry(nodes, edges, width, height);
    }

    /// <summary>The CSS class of a health (<c>health-healthy</c>, <c>health-degraded</c>, <c>health-failure</c>, <c>health-unknown</c>).</summary>
    public static string HealthClass(Health health) => health switch
    {
        Health.Healthy => "health-healthy",
        Health.Degraded => "health-degraded",
        Health.Failure => "health-failure",
        _ => "health-unknown",
    };

    private static SvgEdge Line(LayoutEdge edge, SvgNode from, SvgNode to)
    {
        var (x1, y1, x2, y2) = to.Node.Column > from.Node.Column
            ? (from.X + NodeWidth, from.Y + (NodeHeight / 2), to.X, to.Y + (NodeHeight / 2))
            : to.Node.Column < from.Node.Column
                ? (from.X, from.Y + (NodeHeight / 2), to.X + NodeWidth, to.Y + (NodeHeight / 2))
                : to.Y > from.Y
                    ? (from.X + (NodeWidth / 2), from.Y + NodeHeight, to.X + (NodeWidth / 2), to.Y)
                    : (from.X + (NodeWidth / 2), from.Y, to.X + (NodeWidth / 2), to.Y + NodeHeight);
        return new SvgEdge(edge, x1, y1, x2, y2, Arrow(x1, y1, x2, y2), (x1 + x2) / 2, ((y1 + y2) / 2) - 6);
    }

    /// <summary>A triangle with its tip at the end of the line, 9 px long and 9 px wide.</summary>
    private static string Arrow(int x1, int y1, int x2, int y2)
    {
        double dx = x2 - x1, dy = y2 - y1;
        var length = Math.Max(1, Math.Sqrt((dx * dx) + (dy * dy)));
        (dx, dy) = (dx / length, dy / length);
        var (bx, by) = (x2 - (9 * dx), y2 - (9 * dy));
        return string.Create(CultureInfo.InvariantCulture,
            $"{x2},{y2} {bx - (4.5 * dy):0.#},{by + (4.5 * dx):0.#} {bx + (4.5 * dy):0.#},{by - (4.5 * dx):0.#}");
    }

    private static string Truncate(string workload)
    {
        var name = DisplayText.Escape(workload);
        return name.Length <= MaxName ? name : name[..(MaxName - 1)] + "…";
    }

    private static string Status(LayoutNode n) =>
        n.Workload.IsUnknown ? "outside the mesh" : HealthRules.Describe(n.Health) + (n.Mark is { } mark ? " · " + mark.ToUpperInvariant() : "");

    private static string Title(LayoutNode n) =>
        DisplayText.Escape(n.Workload.IsUnknown
            ? "unknown: clients outside the mesh"
            : $"{n.Workload}: {HealthRules.Describe(n.Health)} (inbound traffic){(n.Mark is { } mark ? "; " + mark : "")}");
}
