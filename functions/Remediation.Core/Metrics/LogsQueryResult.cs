using System.Globalization;
using System.Text.Json;

namespace Remediation.Metrics;

public sealed record LogsColumn(string Name, string Type);

/// <summary>One result table: typed columns and rows of JSON cells.</summary>
public sealed class LogsTable
{
    private readonly Dictionary<string, int> _index;

    public LogsTable(string name, IReadOnlyList<LogsColumn> columns, IReadOnlyList<LogsRow> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        Name = name;
        Columns = columns;
        Rows = rows;
        _index = columns.Select((c, i) => (c.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.OrdinalIgnoreCase);
    }

    public string Name { get; }

    public IReadOnlyList<LogsColumn> Columns { get; }

    public IReadOnlyList<LogsRow> Rows { get; }

    public int IndexOf(string column) => _index.TryGetValue(column, out var i) ? i : -1;

    internal int Require(string column) => _index.TryGetValue(column, out var i) ? i
        : throw new KeyNotFoundException($"table {Name} has no column '{column}' (columns: {string.Join(", ", Columns.Select(c => c.Name))})");
}

/// <summary>One row; cells are read by column name with the column's type (string, long/int, real, bool, datetime, timespan, dynamic).</summary>
public sealed class LogsRow(LogsTable table, JsonElement[] cells)
{
    private JsonElement Cell(string column) => cells[table.Require(column)];

    public string? GetString(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => cell.GetString(),
            _ => cell.GetRawText(),
        };
    }

    public long? GetInt64(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind switch
        {
            JsonValueKind.Number => cell.TryGetInt64(out var l) ? l : (long)cell.GetDouble(),
            JsonValueKind.String when long.TryParse(cell.GetString(), CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }

    public double? GetDouble(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind switch
        {
            JsonValueKind.Number => cell.GetDouble(),
            JsonValueKind.String => PrometheusResponse.ParseValue(cell.GetString()),
            _ => null,
        };
    }

    public bool? GetBoolean(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => cell.GetDouble() != 0,
            _ => null,
        };
    }

    public DateTimeOffset? GetDateTimeOffset(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(cell.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t : null;
    }

    public TimeSpan? GetTimeSpan(string column)
    {
        var cell = Cell(column);
        return cell.ValueKind == JsonValueKind.String && TimeSpan.TryParse(cell.GetString(), CultureInfo.InvariantCulture, out var t) ? t : null;
    }

    /// <summary>A dynamic cell as JSON (the service sends dynamic values as JSON text in a string).</summary>
    public JsonElement? GetDynamic(string column)
    {
        var cell = Cell(column);
        if (cell.ValueKind != JsonValueKind.String)
        {
            return cell.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : cell.Clone();
        }
        var text = cell.GetString() ?? "";
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return cell.Clone();
        }
    }
}

/// <summary>The query result: tables (the first is the query's PrimaryResult).</summary>
public sealed record LogsQueryResult(IReadOnlyList<LogsTable> Tables)
{
    public LogsTable Table => Tables.Count > 0 ? Tables[0] : throw new InvalidOperationException("the query returned no table");
}
