{#- An arithmetic invariant (like dbt_utils.expression_is_true, without a package download): the rows of
    the model where the expression is not true fail. -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
