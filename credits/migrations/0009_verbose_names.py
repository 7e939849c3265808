"""Japanese labels for the ledger models and their fields (admin, forms); no schema change."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0006_placement_settlement_fewer_indexes"),
        ("companies", "0002_initial"),
        ("credits", "0008_entry_transaction_checked_by_trigger"),
        ("referrals", "0006_admin_verbose_names_status_context"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ledgeraccount",
            options={"verbose_name": "勘定", "verbose_name_plural": "勘定"},
        ),
        migrations.AlterModelOptions(
            name="ledgerentry",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "仕訳",
                "verbose_name_plural": "仕訳",
            },
        ),
        migrations.AlterModelOptions(
            name="ledgertransaction",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "取引",
                "verbose_name_plural": "取引",
            },
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
                verbose_name="紹介会社",
            ),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="balance",
            field=models.BigIntegerField(default=0, verbose_name="残高"),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="company",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.company",
                verbose_name="企業",
            ),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="name",
            field=models.CharField(
                choices=[
                    ("points", "有効紹介ポイント"),
                    ("free_hires", "無料採用枠"),
                    ("rebate_jpy", "還元クレジット（円）"),
                    ("points_issued", "発行ポイント"),
                    ("free_hires_issued", "付与した無料採用枠"),
                    ("rebate_owed", "還元債務（円）"),
                ],
                max_length=20,
                verbose_name="勘定",
            ),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="accounts",
                to="companies.partnership",
                verbose_name="提携",
            ),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="totals",
            field=models.JSONField(blank=True, default=dict, verbose_name="種類ごとの累計"),
        ),
        migrations.AlterField(
            model_name="ledgeraccount",
            name="unit",
            field=models.CharField(
                choices=[("points", "ポイント"), ("free_hires", "無料採用枠"), ("jpy", "円")],
                max_length=12,
                verbose_name="単位",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="credits.ledgeraccount",
                verbose_name="勘定",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="account_name",
            field=models.CharField(
                choices=[
                    ("points", "有効紹介ポイント"),
                    ("free_hires", "無料採用枠"),
                    ("rebate_jpy", "還元クレジット（円）"),
                    ("points_issued", "発行ポイント"),
                    ("free_hires_issued", "付与した無料採用枠"),
                    ("rebate_owed", "還元債務（円）"),
                ],
                max_length=20,
                verbose_name="勘定",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="agency",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
                verbose_name="紹介会社",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="amount",
            field=models.BigIntegerField(verbose_name="金額・数量"),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="company",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.company",
                verbose_name="企業",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="作成日時"),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="idempotency_key",
            field=models.CharField(max_length=140, unique=True, verbose_name="冪等キー"),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("qualify", "有効紹介"),
                    ("disqualify", "紹介の無効化"),
                    ("convert", "無料採用枠への交換"),
                    ("redeem", "無料採用枠の利用"),
                    ("restore", "早期退職による無料採用枠の復元"),
                    ("rebate", "手数料還元"),
                    ("refund_adjust", "返金による還元の調整"),
                    ("reverse", "取消"),
                ],
                max_length=16,
                verbose_name="種類",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="partnership",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.partnership",
                verbose_name="提携",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="credits.ledgertransaction",
                verbose_name="取引",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="unit",
            field=models.CharField(
                choices=[("points", "ポイント"), ("free_hires", "無料採用枠"), ("jpy", "円")],
                max_length=12,
                verbose_name="単位",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="agency",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
                verbose_name="紹介会社",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="company",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.company",
                verbose_name="企業",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="作成日時"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="idempotency_key",
            field=models.CharField(max_length=120, unique=True, verbose_name="冪等キー"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("qualify", "有効紹介"),
                    ("disqualify", "紹介の無効化"),
                    ("convert", "無料採用枠への交換"),
                    ("redeem", "無料採用枠の利用"),
                    ("restore", "早期退職による無料採用枠の復元"),
                    ("rebate", "手数料還元"),
                    ("refund_adjust", "返金による還元の調整"),
                    ("reverse", "取消"),
                ],
                max_length=16,
                verbose_name="種類",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="memo",
            field=models.CharField(blank=True, max_length=200, verbose_name="メモ"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="partnership",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.partnership",
                verbose_name="提携",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="period",
            field=models.CharField(blank=True, max_length=7, verbose_name="精算期間"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="placement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.placement",
                verbose_name="成約",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="referral",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="referrals.referral",
                verbose_name="対象の紹介",
            ),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="adjustments_posted",
            field=models.PositiveIntegerField(default=0, verbose_name="計上した調整"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="完了日時"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="period",
            field=models.CharField(max_length=7, unique=True, verbose_name="精算期間"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="rebates_posted",
            field=models.PositiveIntegerField(default=0, verbose_name="計上した還元"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="started_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="開始日時"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="statements_rendered",
            field=models.PositiveIntegerField(default=0, verbose_name="作成した明細書"),
        ),
        migrations.AlterField(
            model_name="settlementrun",
            name="status",
            field=models.CharField(
                choices=[("running", "実行中"), ("done", "完了")],
                default="running",
                max_length=10,
                verbose_name="状態",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
                verbose_name="紹介会社",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="company",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.company",
                verbose_name="企業",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="作成日時"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="issued_on",
            field=models.DateField(verbose_name="交付日"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="kind",
            field=models.CharField(
                choices=[("company", "企業向け明細"), ("agency", "紹介会社向け明細")],
                max_length=10,
                verbose_name="種類",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="lines",
            field=models.JSONField(default=list, verbose_name="明細行"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="pdf",
            field=models.FileField(blank=True, upload_to="statements/", verbose_name="PDF"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="period",
            field=models.CharField(db_index=True, max_length=7, verbose_name="対象期間"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="tax_jpy",
            field=models.BigIntegerField(default=0, verbose_name="消費税（円）"),
        ),
        migrations.AlterField(
            model_name="statement",
            name="total_jpy",
            field=models.BigIntegerField(default=0, verbose_name="合計（円）"),
        ),
    ]
