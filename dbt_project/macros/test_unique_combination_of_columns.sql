{#- A grain test (like dbt_utils.unique_combination_of_columns, without a package download): no two rows
    share the given columns. -#}
{% test unique_combination_of_columns(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
