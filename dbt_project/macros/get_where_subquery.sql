{#- Tests of the large incremental tables check only the months this run rebuilt: their `where` config is
    the placeholder __rebuilt_periods__, replaced here (generic test configs cannot call project macros).
    Without var `period` it becomes `true` and the whole table is tested. Literal dates (as in the models),
    so the filter reaches the period indexes, even through the grouped int_treasury_figures__by_key view. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__rebuilt_periods__' in where -%}
            {%- set where = where | replace('__rebuilt_periods__', period_filter('period')) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
