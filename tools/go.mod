module github.com/AndrewDonelson/strata/tools

go 1.24
